//! JSON Schemas (draft 2020-12) of every JSON output, derived with schemars from the very
//! types the renderers serialize, so a schema cannot drift from the output: a field added
//! to a report type appears in its schema, and one renamed or removed disappears.
//!
//! Every object schema is closed (`additionalProperties: false`), so an output that gains
//! a field the types do not declare fails validation in the tests instead of going
//! unnoticed. Each top-level JSON object carries `schema_version` ([`SCHEMA_VERSION`]),
//! bumped when a field changes meaning or goes away.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};
use serde::Serialize;

use crate::check::policy::PolicyFinding;
use crate::cli::SchemaKind;
use crate::mtls::outcome::MtlsReport;
use crate::pki::chain_outcome::ChainReport;
use crate::report::audit::{AuditMeta, BundleJson, Summary, TargetJson};
use crate::report::{InspectReport, VerifyReport};

/// The version of the JSON contract, in every top-level object as `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// A top-level JSON object: `schema_version` first, then the report's own fields.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Versioned{T}")]
pub struct Versioned<T> {
    /// The JSON contract version; see `tlsprobe schema`.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    #[serde(flatten)]
    pub report: T,
}

impl<T> Versioned<T> {
    pub fn new(report: T) -> Self {
        Versioned {
            schema_version: SCHEMA_VERSION,
            report,
        }
    }
}

/// `audit --format json`: the document the JSON sink streams (see `JsonSink` in
/// report/audit/json.rs, which writes these keys in this order).
#[derive(JsonSchema)]
#[allow(dead_code)] // a schema, never built: the sink streams the document piecewise
struct AuditDocument<'a> {
    /// The JSON contract version.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    schema_version: u32,
    /// One object per target, in inventory order.
    targets: Vec<TargetJson<'a>>,
    /// One object per bundle, in inventory order.
    bundles: Vec<BundleJson<'a>>,
    /// Every target's policy findings.
    policy_findings: Vec<PolicyFinding>,
    summary: Summary,
    meta: AuditMeta,
}

/// One line of `audit --format jsonl`: a target or a bundle.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)] // a schema, never built: the sink writes the two kinds directly
enum AuditLine<'a> {
    Target(Versioned<TargetJson<'a>>),
    Bundle(Versioned<BundleJson<'a>>),
}

/// Closes every object schema that lists its properties.
fn close_objects(schema: &mut Schema) {
    if let Some(obj) = schema.as_object_mut() {
        if obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
            obj.insert("additionalProperties".into(), false.into());
        }
    }
    schemars::transform::transform_subschemas(&mut close_objects, schema);
}

/// The schema of one JSON output.
pub fn schema(kind: SchemaKind) -> Schema {
    // The serialize contract: a field skipped when empty is optional, one always
    // written (null included) is required.
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(close_objects as fn(&mut Schema))
        .into_generator();
    let mut s = match kind {
        SchemaKind::Verify => generator.into_root_schema_for::<Versioned<VerifyReport>>(),
        SchemaKind::Inspect => generator.into_root_schema_for::<Versioned<InspectReport>>(),
        SchemaKind::Chain => generator.into_root_schema_for::<Versioned<ChainReport>>(),
        SchemaKind::Mtls => generator.into_root_schema_for::<Versioned<MtlsReport>>(),
        SchemaKind::Audit => generator.into_root_schema_for::<AuditDocument>(),
        SchemaKind::AuditLine => generator.into_root_schema_for::<AuditLine>(),
    };
    // Title and description from the `tlsprobe schema KIND` value and its help text.
    if let Some(v) = <SchemaKind as clap::ValueEnum>::to_possible_value(&kind) {
        let title = format!(
            "tlsprobe {} JSON (schema_version {SCHEMA_VERSION})",
            v.get_name()
        );
        s.insert("title".into(), title.into());
        if let Some(help) = v.get_help() {
            s.insert("description".into(), format!("The output of {help}").into());
        }
    }
    s
}

/// `tlsprobe schema KIND`: the schema, pretty-printed.
pub fn print(kind: SchemaKind) -> u8 {
    crate::packaging::write_stdout(crate::report::json::render_plain(&schema(kind)).as_bytes())
}
