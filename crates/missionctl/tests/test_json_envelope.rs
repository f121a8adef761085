//! `--json` prints exactly one document on every exit path; exit codes 0, 1 and 2.

use crate::common::{TestEnv, TestResult};

#[test]
fn usage_errors_are_one_json_document_with_exit_2() -> TestResult {
    let env = TestEnv::new()?;
    for args in [
        &["--json", "status", "reduce", "--nope"][..],
        &["status", "reduce", "--nope", "--json"],
        &["--json", "status", "reduce"],
        &["--json", "bogus"],
        &["--json"],
        &["status", "--json"],
        &["--json", "demo", "--dir"],
        &["demo", "--json", "extra"],
    ] {
        let output = env.run(args).code(2);
        let error = output.json_error()?;
        assert_eq!(error["code"], "USAGE_ERROR", "{args:?}");
        assert!(error["hint"].is_string(), "{args:?}");
        assert_eq!(output.stderr, "", "{args:?}");
    }
    Ok(())
}

#[test]
fn usage_error_messages_say_what_is_wrong() -> TestResult {
    let env = TestEnv::new()?;
    let error = env
        .run(["--json", "status", "reduce", "--nope"])
        .code(2)
        .json_error()?;
    assert_eq!(error["message"], "Unexpected argument '--nope' found");
    assert_eq!(
        error["hint"],
        "To pass '--nope' as a value, use '-- --nope'"
    );

    let error = env
        .run(["--json", "status", "reduce"])
        .code(2)
        .json_error()?;
    assert_eq!(
        error["message"],
        "The following required arguments were not provided: <MISSION_DIR>"
    );
    assert_eq!(
        error["hint"],
        "Usage: `missionctl status reduce <MISSION_DIR>`"
    );
    Ok(())
}

#[test]
fn usage_errors_without_json_go_to_stderr() -> TestResult {
    let env = TestEnv::new()?;
    let output = env.run(["status", "reduce", "--nope"]).code(2);
    insta::assert_snapshot!(output, @r"
    ------- stderr -------
    error: unexpected argument '--nope' found

      tip: to pass '--nope' as a value, use '-- --nope'

    Usage: missionctl status reduce [OPTIONS] <MISSION_DIR>

    For more information, try '--help'.
    [exit status: 2]
    ");
    Ok(())
}

#[test]
fn no_subcommand_prints_help_on_stderr_and_exits_2() -> TestResult {
    let env = TestEnv::new()?;
    let output = env.run::<_, &str>([]).code(2);
    assert_eq!(output.stdout, "");
    assert!(
        output
            .stderr
            .contains("Usage: missionctl [OPTIONS] <COMMAND>")
    );
    Ok(())
}

#[test]
fn json_after_a_terminator_is_an_argument() -> TestResult {
    let env = TestEnv::new()?;
    let output = env.run(["status", "reduce", "--", "--json"]).code(1);
    assert_eq!(output.stdout, "");
    assert!(
        output
            .stderr
            .starts_with("error: Not a mission directory: `--json`"),
        "{output}"
    );
    Ok(())
}

#[test]
fn help_and_version_are_data_with_json() -> TestResult {
    let env = TestEnv::new()?;
    for (args, kind) in [
        (&["--json", "--help"][..], "help"),
        (&["status", "reduce", "--help", "--json"], "help"),
        (&["-h", "--json"], "help"),
        (&["--json", "--version"], "version"),
    ] {
        let output = env.run(args).success();
        let document = output.json()?;
        assert_eq!(document["ok"], true, "{args:?}");
        assert_eq!(document["data"]["kind"], kind, "{args:?}");
        assert!(
            document["data"]["text"]
                .as_str()
                .is_some_and(|text| !text.is_empty())
        );
    }
    let version = env.run(["--json", "--version"]).success().json()?;
    assert_eq!(
        version["data"]["text"],
        format!("missionctl {}\n", env!("CARGO_PKG_VERSION"))
    );
    Ok(())
}

#[test]
fn success_is_ok_true_with_data_first_and_nothing_else() -> TestResult {
    let env = TestEnv::new()?;
    let output = env.run(["--json", "--version"]).success();
    assert!(
        output.stdout.starts_with("{\"ok\":true,\"data\":{"),
        "{output}"
    );
    assert_eq!(output.stderr, "");
    Ok(())
}
