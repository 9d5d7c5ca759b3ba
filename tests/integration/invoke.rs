//! `edge generate-event` and `edge invoke`: a function run once on an event, without a cluster.

use crate::harness::*;
use std::process::{Command, Stdio};

fn edge(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(EDGE)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_generated_event_runs_through_a_function_with_the_verdict() {
    let (code, event, err) = edge(
        &[
            "generate-event",
            "viewer-request",
            "--uri",
            "/about",
            "--country",
            "de",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&event).unwrap();
    assert_eq!(
        v["Records"][0]["cf"]["config"]["eventType"],
        "viewer-request"
    );
    assert_eq!(
        v["Records"][0]["cf"]["request"]["headers"]["cloudfront-viewer-country"][0]["value"],
        "DE"
    );
    let spa = write_temp("const path = require('path');\nexports.handler = async (e) => { const r = e.Records[0].cf.request; console.log('rewriting ' + r.uri); if (path.extname(r.uri) === '') r.uri = '/index.html'; return r; };");
    let (code, out, err) = edge(
        &["invoke", spa.to_str().unwrap(), "--event", "-"],
        Some(&event),
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"uri\": \"/index.html\""), "{out}");
    assert!(
        out.contains("verdict: continues to the cache: GET /index.html"),
        "{out}"
    );
    assert!(
        out.contains("Duration: ") && out.contains("Memory Size: 128 MB"),
        "{out}"
    );
    assert!(
        err.contains("rewriting /about"),
        "the function's logs: {err}"
    );
}

#[test]
fn a_wrong_result_and_bad_input_exit_non_zero_saying_why() {
    let (_, event, _) = edge(
        &["generate-event", "viewer-response", "--status", "404"],
        None,
    );
    let wrong = write_temp("exports.handler = async (e) => e.Records[0].cf.request;");
    let (code, out, _) = edge(
        &["invoke", wrong.to_str().unwrap(), "--event", "-"],
        Some(&event),
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verdict: 502 LambdaValidationError"), "{out}");
    let throws = write_temp("exports.handler = async () => { throw new Error('nope'); };");
    let (code, out, _) = edge(
        &["invoke", throws.to_str().unwrap(), "--event", "-"],
        Some(&event),
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verdict: 503 LambdaExecutionError") && out.contains("nope"),
        "{out}"
    );
    let f = wrong.to_str().unwrap();
    let (code, _, err) = edge(&["invoke", f, "--event", "-"], Some("not json"));
    assert_eq!(code, 2);
    assert!(err.contains("the event is not JSON"), "{err}");
    let (code, _, err) = edge(&["invoke", f, "--event", "-"], Some("{\"x\": 1}"));
    assert_eq!(code, 2);
    assert!(err.contains("config.eventType"), "{err}");
    let (code, _, err) = edge(&["invoke", "/no/such.js", "--event", "-"], Some(&event));
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot read function file /no/such.js"),
        "{err}"
    );
    let (code, _, err) = edge(&["generate-event", "nowhere"], None);
    assert_eq!(code, 2);
    assert!(err.contains("unknown stage"), "{err}");
}

/// A CloudFront function on AWS's own sample event, reported as `aws cloudfront
/// test-function` reports it.
#[test]
fn a_cloudfront_function_is_tested_as_aws_cloudfront_test_function_reports() {
    let sample = format!(
        "{}/../../shared/lambda-edge/events/aws-docs/cloudfront-functions-viewer-response-event.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let run = |src: &str, runtime: &str| {
        let f = write_temp(src);
        edge(
            &[
                "invoke",
                f.to_str().unwrap(),
                "--runtime",
                runtime,
                "--event",
                &sample,
            ],
            None,
        )
    };
    let (code, out, err) = run(
        "function handler(event) {\n  console.log('country ' + event.request.headers['cloudfront-viewer-country'].value);\n  var r = event.response;\n  r.headers['x-test'] = { value: 'yes' };\n  return r;\n}\n",
        "cloudfront-js-1.0",
    );
    assert_eq!(code, 0, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &v["TestResult"];
    assert_eq!(
        t["FunctionSummary"]["FunctionConfig"]["Runtime"],
        "cloudfront-js-1.0"
    );
    assert_eq!(
        t["FunctionSummary"]["FunctionMetadata"]["Stage"],
        "DEVELOPMENT"
    );
    assert_eq!(
        t["FunctionExecutionLogs"],
        serde_json::json!(["country GB"])
    );
    assert_eq!(t["FunctionErrorMessage"], "");
    let u: u64 = t["ComputeUtilization"].as_str().unwrap().parse().unwrap();
    assert!(u <= 100);
    let output: serde_json::Value =
        serde_json::from_str(t["FunctionOutput"].as_str().unwrap()).unwrap();
    assert_eq!(output["headers"]["x-test"]["value"], "yes");
    assert_eq!(
        output["cookies"]["Cookie1"]["multiValue"][1]["value"],
        "val2"
    );

    // A failure is named in FunctionErrorMessage and exits 1; so is an output CloudFront refuses.
    for (src, says) in [
        (
            "function handler(event) { throw new Error('nope'); }",
            "Error: nope",
        ),
        (
            "function handler(event) { return 42; }",
            "a number instead of the response",
        ),
    ] {
        let (code, out, _) = run(src, "cloudfront-js-2.0");
        assert_eq!(code, 1, "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            v["TestResult"]["FunctionErrorMessage"]
                .as_str()
                .unwrap()
                .contains(says),
            "{out}"
        );
    }
    // Runtime 1.0 code with runtime 2.0 syntax is a bad file, refused before it runs.
    let (code, _, err) = run(
        "function handler(event) { let r = event.request; return r; }",
        "cloudfront-js-1.0",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Token \"let\" not supported"), "{err}");
}
