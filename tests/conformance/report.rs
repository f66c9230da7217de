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
         - `fapi2-security-profile-final-client-test-plan`: its modules need a FAPI 2.0 client \
         (`private_key_jwt`, PAR, DPoP), which this app does not have yet (issue 21, items 2 to 6).\n\
         - Front-channel logout and session management (`oidcc-client-test-rp-frontchannel-*`, \
         `oidcc-client-test-session-management`): Auth0 offers neither to regular web apps; this \
         app uses back-channel logout.\n",
    );
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
