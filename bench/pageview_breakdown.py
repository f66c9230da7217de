"""Where a page view's CPU goes: reads perf samples folded by inferno-collapse-perf and gives each
sample to the innermost component on its stack (kernel first: anything under a syscall entry).
Prints a Markdown table. Used by bench/profile."""
import collections
import sys

rules=[
 ('kernel: syscalls (socket read/write, epoll)', lambda f: f.startswith('entry_SYSCALL') or f.startswith('do_syscall')),
 ('kernel: interrupts, scheduling', lambda f: f.startswith('asm_') or f in ('finish_task_switch.isra.0','schedule','__schedule')),
 ('malloc/free (mimalloc)', lambda f: f in ('malloc','_int_malloc','_int_free','cfree@GLIBC_2.2.5','malloc_consolidate','realloc','_int_realloc','__libc_malloc','__libc_free','free') or f.startswith(('mi_', '_mi_')) or 'rust_alloc' in f or 'rust_dealloc' in f or 'rust_realloc' in f),
 ('memcpy/memmove', lambda f: f.startswith('__memmove') or f.startswith('__memcpy') or f.startswith('__memcmp') or f.startswith('__memset')),
 ('page template (askama)', lambda f: 'askama' in f or 'render_into' in f or 'write_escaped' in f),
 ('profile JSON for the page (ProfileView)', lambda f: 'ProfileView' in f or 'to_string_pretty' in f or 'PrettyFormatter' in f),
 ('JSON parse (serde_json::de)', lambda f: 'serde_json::de' in f or 'deserialize_map' in f),
 ('serde_json Value -> UserSession, Value clone/drop', lambda f: 'serde_json::value' in f or 'drop_in_place<serde_json' in f or 'BTreeMap' in f or 'btree' in f),
 ('cookie codec (base64, AES-GCM)', lambda f: 'codec' in f or 'ring_core' in f or 'aes_gcm' in f.lower() or 'base64' in f or 'aes_hw' in f or 'gcm_' in f),
 ('tower-sessions Session', lambda f: 'tower_sessions' in f),
 ('our cookie layer (parse, store)', lambda f: 'session::cookie' in f or 'RequestChunks' in f or 'CookieSession' in f),
 ('tracing spans/events', lambda f: 'tracing' in f),
 ('request id', lambda f: 'request_id' in f or 'MakeRequestSeq' in f),
 ('security header layers', lambda f: 'set_header' in f),
 ('render_errors middleware', lambda f: 'render_errors' in f),
 ('axum routing/handler glue', lambda f: f.startswith('axum') or 'axum::' in f or 'matchit' in f),
 ('hyper HTTP/1', lambda f: 'hyper' in f or 'httparse' in f or 'http::header' in f),
 ('tokio runtime', lambda f: 'tokio' in f),
]
tot=0; b=collections.Counter()
for line in open(sys.argv[1]):
    stack,n=line.rsplit(' ',1); n=int(n); tot+=n
    frames=stack.split(';')
    # kernel first: anything below a syscall entry
    got=None
    for name,p in rules[:2]:
        if any(p(f) for f in frames): got=name; break
    if not got:
        for f in reversed(frames):
            for name,p in rules[2:]:
                if p(f): got=name; break
            if got: break
    b[got or 'other']+=n
print("| share of the app's CPU | where |")
print("| ---: | --- |")
for k, v in b.most_common():
    print(f"| {100 * v / tot:.1f}% | {k} |")
