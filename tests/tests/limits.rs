//! Large values and the user's masking rules, through `traced::Config`: a value past the
//! size limit is cut at a UTF-8 boundary with its original size recorded, and kept whole
//! in the blob directory; extra secret names and a mask function apply to every capture.

use opentelemetry_sdk::trace::InMemorySpanExporter;
use traced::{traced, Config, REDACTED};
use traced_tests::attr_str;

#[traced(as_type = "generation")]
fn summarise(prompt: &str, ssn: &str, contact: &str) -> String {
    let _ = (ssn, contact);
    format!("{} characters", prompt.chars().count())
}

#[test]
fn big_values_are_cut_and_kept_whole_in_the_blob_directory() {
    let blobs = std::env::temp_dir().join(format!("traced-blobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&blobs);
    let exporter = InMemorySpanExporter::default();
    let guard = Config::new()
        .exporter(exporter.clone())
        .max_attribute_bytes(1024)
        .blob_dir(&blobs)
        .also_secret(["ssn"])
        .mask(|_key, value| value.replace("ada@example.com", "<email>"))
        .init()
        .expect("valid config");
    // 5 MB of two-byte characters: the cut must not split one.
    let prompt = "é".repeat(2_500_000);
    assert_eq!(
        summarise(&prompt, "123-45-6789", "ada@example.com"),
        "2500000 characters"
    );
    guard.flush();
    let spans = exporter.get_finished_spans().expect("spans");
    let span = spans.iter().find(|s| s.name == "summarise").expect("span");

    let input = attr_str(span, "input.value").expect("input kept");
    assert!(input.len() <= 1024, "{} bytes kept", input.len());
    assert!(
        input.starts_with(r#"{"prompt":"éé"#),
        "{}",
        &input[..40.min(input.len())]
    );
    let original = attr_str(span, "traced.truncated.input.value").expect("original size recorded");
    let original: usize = original.parse().expect("a number");
    assert!(original > 5_000_000);

    let blob = attr_str(span, "traced.blob.input.value").expect("blob path recorded");
    let whole = std::fs::read_to_string(&blob).expect("blob written");
    assert_eq!(whole.len(), original);
    let json: serde_json::Value = serde_json::from_str(&whole).expect("the whole JSON");
    assert_eq!(json["prompt"].as_str().map(str::len), Some(5_000_000));
    assert_eq!(json["ssn"], REDACTED, "extra secret names apply");
    assert_eq!(json["contact"], "<email>", "the mask function applies");
    assert!(!whole.contains("123-45-6789"));

    // A small value is untouched and has no truncation marks.
    assert_eq!(
        attr_str(span, "output.value").as_deref(),
        Some("2500000 characters")
    );
    assert!(attr_str(span, "traced.truncated.output.value").is_none());
    guard.shutdown();
    let _ = std::fs::remove_dir_all(&blobs);
}
