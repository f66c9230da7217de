//! `CONFORMANCE.md`, from a run: each module, what it requires, our result, and our choices.

use crate::Module;

pub fn markdown(outcomes: &[(&Module, Result<String, String>)]) -> String {
    let mut out = String::from(
        "# OpenID RP conformance\n\n\
         Written by `tests/conformance/run` (do not edit): each module of the OpenID Foundation's RP \
         test plans that applies to this app, run against the demo provider switched into that \
         module's behaviour, asserting what the module asserts. A module's text is in the \
         conformance suite's source (`openid/client/` in openid-certification/conformance-suite).\n",
    );
    let mut plan = "";
    for (module, outcome) in outcomes {
        if module.plan != plan {
            plan = module.plan;
            out.push_str(&format!(
                "\n## `{plan}`\n\n| module | requires | result | what we saw |\n|---|---|---|---|\n"
            ));
        }
        let (result, seen) = match outcome {
            Ok(seen) => ("passed", seen.as_str()),
            Err(why) => ("**failed**", why.as_str()),
        };
        out.push_str(&format!(
            "| `{}` | {} | {result} | {} |\n",
            module.id,
            cell(module.requires),
            cell(seen)
        ));
    }
    let choices: Vec<_> = outcomes
        .iter()
        .filter(|(m, _)| !m.choice.is_empty())
        .collect();
    if !choices.is_empty() {
        out.push_str("\n## Where we choose differently\n\n");
        for (module, _) in choices {
            out.push_str(&format!("- `{}`: {}\n", module.id, module.choice));
        }
    }
    out.push_str(
        "\n## Not run yet\n\n\
         - `fapi2-security-profile-final-client-test-invalid-alternate-alg` (an ID token validly \
         signed with another algorithm): the demo tenant signs only RS256; the app accepts only \
         RS256 ID tokens (any other `alg` is `KEY_RETRIEVAL_ERROR`, unit-tested in `token_check`).\n\
         - `fapi2-security-profile-final-client-test-rs-dpop-auth-scheme-case-insensitivity`: a \
         resource server's own `use_dpop_nonce` challenge; `/call-api` does not retry a \
         resource's nonce challenge yet.\n\
         - The JARM modules (`fapi2-...-ensure-jarm-*`): they apply to the plan's `jarm` response \
         mode; this app takes plain query responses (with RFC 9207's `iss`), and does not \
         implement JARM.\n\
         - Front-channel logout and session management (`oidcc-client-test-rp-frontchannel-*`, \
         `oidcc-client-test-session-management`): Auth0 offers neither to regular web apps; this \
         app uses back-channel logout.\n",
    );
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
