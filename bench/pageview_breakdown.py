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
# `--login`: a login's samples, the demo provider's own first (in --demo mode it runs in the
# app's process: its RSA signing is the tenant's work, not ours).
if '--login' in sys.argv:
    sys.argv.remove('--login')
    rules = rules[:2] + [
     ('the demo provider (the tenant\'s work: signing tokens, its pages)', lambda f: 'auth0_demo_idp' in f),
     ('RSA signature check of the ID token (ring)', lambda f: 'ring::rsa' in f or 'bn_mul_mont' in f or 'ring_core_0_17' in f and 'mont' in f),
     ('SHA-256, HMAC, HKDF (PKCE, at_hash, keys)', lambda f: 'sha2' in f or 'sha256' in f.lower() or 'hkdf' in f or 'hmac' in f),
     ('randomness (state, nonce, PKCE verifier)', lambda f: 'getrandom' in f or 'rand::' in f or 'random_token' in f),
     ('ID token checks (token_check)', lambda f: 'token_check' in f),
     ('HTTP client to the token endpoint (reqwest, hyper client)', lambda f: 'reqwest' in f or 'hyper_util::client' in f or 'hyper::client' in f),
    ] + rules[2:]
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
