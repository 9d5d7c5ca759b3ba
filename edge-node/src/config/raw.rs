//! The configuration file as written: serde structs with CloudFront's DistributionConfig names
//! (PascalCase) for distributions and plain snake_case for the node's own settings. Nothing here
//! is checked beyond types; `super::validate` turns it into the types the node runs on.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub node: RawNode,
    #[serde(default)]
    pub distributions: Vec<RawDistribution>,
    /// The cluster's POPs with simulated network distances (ours, not CloudFront's).
    #[serde(default)]
    pub pops: Vec<RawPop>,
    /// KeyValueStores for CloudFront functions (`KeyValueStore` in a FunctionAssociation).
    #[serde(default)]
    pub key_value_stores: Vec<RawKvs>,
}

/// A KeyValueStore and the file (AWS's import format) that fills it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawKvs {
    pub name: Option<String>,
    pub file: Option<String>,
    /// Sent to the control node by `edge deploy` (which reads the file's TOML); a node has no
    /// use for it.
    #[allow(dead_code)]
    pub comment: Option<String>,
}

/// A POP of the local cluster and the round trips it simulates.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPop {
    pub name: String,
    pub viewer_rtt_ms: Option<f64>,
    pub origin_rtt_ms: Option<f64>,
}

/// Settings of this edge node (not CloudFront names: CloudFront has no such knobs).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub pop: Option<String>,
    pub cache_bytes: Option<u64>,
    pub max_object_bytes: Option<u64>,
    pub max_request_body_bytes: Option<u64>,
    pub max_header_bytes: Option<u64>,
    pub max_headers: Option<u64>,
    pub header_read_timeout: Option<f64>,
    pub idle_timeout: Option<f64>,
    pub workers: Option<u64>,
    /// Open viewer connections per node; more are closed at once.
    pub max_connections: Option<u64>,
    pub access_log: Option<bool>,
    /// `cloudfront` (standard log), `realtime-json` or `text`.
    pub access_log_format: Option<String>,
    /// Where the access log goes (default: stdout).
    pub access_log_file: Option<String>,
    /// An OpenTelemetry collector (OTLP/HTTP) to send a trace per request to.
    pub otlp: Option<String>,
    pub tls_cert: Option<String>,
    pub tls_key: Option<String>,
    /// Function limits (seconds; CloudFront's 5 s viewer / 30 s origin may only be lowered).
    pub viewer_function_timeout: Option<f64>,
    /// A CloudFront function's compute budget per call, in microseconds (its 100% compute
    /// utilization).
    pub cloudfront_function_budget_us: Option<u64>,
    pub origin_function_timeout: Option<f64>,
    /// How long a function's top-level code may run at load (seconds; Lambda's Init phase).
    pub function_init_timeout: Option<f64>,
    pub function_memory_mb: Option<u64>,
    pub function_concurrency: Option<u64>,
    pub function_isolates_per_worker: Option<u64>,
    pub function_slice_ms: Option<u64>,
    /// 503 (current CloudFront) or 500 (older docs) for a function that throws.
    pub execution_error_status: Option<u16>,
    /// Refuse (502) a viewer-response function that changes the status instead of ignoring it.
    pub strict_viewer_response_status: Option<bool>,
    /// Add `Server-Timing` with each stage's duration.
    pub server_timing: Option<bool>,
    /// Geo databases (MaxMind format: DB-IP Lite or GeoIP2/GeoLite2).
    #[serde(default)]
    pub geo_db: Vec<String>,
    /// Dev mode: a request may name its viewer with `X-Edge-Viewer-Ip`.
    pub dev: Option<bool>,
    /// The viewer IP for requests that do not name one (dev mode).
    pub viewer_ip: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed (CIDR networks).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawDistribution {
    pub id: Option<String>,
    pub domain_name: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(rename = "ErrorCachingMinTTL")]
    pub error_caching_min_ttl: Option<u64>,
    /// The object a request for the root URL (`/`) gets, e.g. `index.html`.
    pub default_root_object: Option<String>,
    pub restrictions: Option<RawRestrictions>,
    pub custom_error_responses: Option<RawCustomErrorResponses>,
    #[serde(default)]
    pub origins: Vec<RawOrigin>,
    pub origin_groups: Option<RawOriginGroups>,
    pub default_cache_behavior: Option<RawBehavior>,
    #[serde(default)]
    pub cache_behaviors: Vec<RawBehavior>,
    /// Cache policies of this account, in the shape of CloudFront's `CachePolicyConfig` (plus the
    /// Id CloudFront gave them): a behavior's `CachePolicyId` names one by Id or Name (ours:
    /// CloudFront keeps them beside the distribution, not in it).
    #[serde(default)]
    pub cache_policies: Vec<RawCachePolicyConfig>,
    /// Origin request policies (`OriginRequestPolicyConfig` plus an Id), likewise.
    #[serde(default)]
    pub origin_request_policies: Vec<RawOriginRequestPolicyConfig>,
    /// Response headers policies (`ResponseHeadersPolicyConfig` plus an Id), likewise.
    #[serde(default)]
    pub response_headers_policies: Vec<RawResponseHeadersPolicy>,
    /// Key groups and their public keys, for behaviors' `TrustedKeyGroups` (ours: CloudFront
    /// keeps them beside the distribution, not in it).
    #[serde(default)]
    pub key_groups: Vec<RawKeyGroup>,
    /// Host-only addresses this distribution's functions may fetch from besides its origins
    /// (js/egress.rs): networks, addresses and host names, each with an optional port.
    #[serde(default)]
    pub fetch_allow: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawRestrictions {
    pub geo_restriction: Option<RawGeoRestriction>,
}

/// CloudFront's `GeoRestriction`: `whitelist`, `blacklist` or `none`, with its countries.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawGeoRestriction {
    pub restriction_type: Option<String>,
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<String>,
}

/// CloudFront's `CustomErrorResponses`, with its `Quantity` and `Items`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCustomErrorResponses {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<RawCustomErrorResponse>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCustomErrorResponse {
    pub error_code: Option<u16>,
    pub response_page_path: Option<String>,
    /// A string in CloudFront's API (`"200"`), a number in CloudFormation: either is taken.
    pub response_code: Option<RawStatus>,
    #[serde(rename = "ErrorCachingMinTTL")]
    pub error_caching_min_ttl: Option<u64>,
}

/// CloudFront's `OriginGroups`: a primary and a secondary origin, and the statuses that send a
/// request on to the secondary.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawOriginGroups {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<RawOriginGroup>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawOriginGroup {
    pub id: Option<String>,
    pub failover_criteria: Option<RawFailoverCriteria>,
    pub members: Option<RawMembers>,
    /// `default` or `media-quality-based` (MediaPackage origins only).
    pub selection_criteria: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawFailoverCriteria {
    pub status_codes: Option<RawStatusCodes>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawStatusCodes {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<u16>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawMembers {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<RawMember>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawMember {
    pub origin_id: Option<String>,
}

/// A status code given as a number or as a string of digits.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawStatus {
    Number(u16),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawOrigin {
    pub id: Option<String>,
    pub domain_name: Option<String>,
    #[serde(default)]
    pub origin_path: String,
    /// Seconds to wait for a TCP connection (CloudFront: 1–10).
    pub connection_timeout: Option<f64>,
    pub custom_origin_config: Option<RawCustomOriginConfig>,
    pub s3_origin_config: Option<RawS3OriginConfig>,
    /// An origin access control: taken (S3 answers the node without checking).
    #[allow(dead_code)]
    pub origin_access_control_id: Option<String>,
    #[serde(default)]
    pub custom_headers: BTreeMap<String, String>,
}

/// `S3OriginConfig`: CloudFront reaches the bucket over HTTPS on 443; `HTTPPort`/`HTTPSPort` and
/// `OriginProtocolPolicy` (ours) point it at a local stand-in (`edge origin --s3-root`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawS3OriginConfig {
    #[serde(rename = "OriginAccessIdentity")]
    pub origin_access_identity: Option<String>,
    #[serde(rename = "OriginReadTimeout")]
    pub origin_read_timeout: Option<f64>,
    #[serde(rename = "HTTPPort")]
    pub http_port: Option<u16>,
    #[serde(rename = "HTTPSPort")]
    pub https_port: Option<u16>,
    #[serde(rename = "OriginProtocolPolicy")]
    pub origin_protocol_policy: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCustomOriginConfig {
    #[serde(rename = "HTTPPort")]
    pub http_port: Option<u16>,
    #[serde(rename = "HTTPSPort")]
    pub https_port: Option<u16>,
    #[serde(rename = "OriginProtocolPolicy")]
    pub origin_protocol_policy: Option<String>,
    /// Seconds to wait for the first byte and between bytes (CloudFront: 1–60; fractions allowed here).
    #[serde(rename = "OriginReadTimeout")]
    pub origin_read_timeout: Option<f64>,
    #[serde(rename = "OriginKeepaliveTimeout")]
    pub origin_keepalive_timeout: Option<f64>,
    /// Idle keep-alive connections kept per worker (our extension).
    #[serde(rename = "KeepalivePoolSize")]
    pub keepalive_pool_size: Option<u64>,
    /// Verify the origin's TLS certificate (our extension; set false for self-signed local origins).
    #[serde(rename = "VerifyCertificate")]
    pub verify_certificate: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawBehavior {
    pub path_pattern: Option<String>,
    pub target_origin_id: Option<String>,
    /// `allow-all` (the default), `redirect-to-https` or `https-only`.
    pub viewer_protocol_policy: Option<String>,
    #[serde(rename = "MinTTL")]
    pub min_ttl: Option<u64>,
    #[serde(rename = "DefaultTTL")]
    pub default_ttl: Option<u64>,
    #[serde(rename = "MaxTTL")]
    pub max_ttl: Option<u64>,
    /// A list, or CloudFront's API shape with `CachedMethods` inside.
    pub allowed_methods: Option<RawMethods>,
    pub cached_methods: Option<Vec<String>>,
    /// Key groups whose keys sign the URLs and cookies this behavior requires.
    pub trusted_key_groups: Option<RawTrustedList>,
    /// AWS accounts' key pairs (the older way): refused, with a pointer to key groups.
    pub trusted_signers: Option<RawTrustedList>,
    /// Compress what the origin sends (gzip, and Brotli where the cache policy enables it).
    pub compress: Option<bool>,
    pub cache_policy: Option<RawKeyPolicy>,
    pub origin_request_policy: Option<RawKeyPolicy>,
    /// A managed cache policy by ID (or name), as CloudFront's API names it.
    pub cache_policy_id: Option<String>,
    /// A managed origin request policy by ID (or name).
    pub origin_request_policy_id: Option<String>,
    /// A managed response headers policy by ID (or name).
    pub response_headers_policy_id: Option<String>,
    /// A response headers policy written inline, in the shape of CloudFront's
    /// `ResponseHeadersPolicyConfig`.
    pub response_headers_policy: Option<RawResponseHeadersPolicy>,
    #[serde(default)]
    pub lambda_function_associations: Vec<RawAssociation>,
    #[serde(default)]
    pub function_associations: Vec<RawFunctionAssociation>,
}

/// A CloudFront function at viewer-request or viewer-response of a cache behavior. CloudFront
/// names it by `FunctionARN`; here it comes from a `File` with its `Runtime`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawFunctionAssociation {
    pub event_type: Option<String>,
    pub file: Option<String>,
    /// `cloudfront-js-1.0` or `cloudfront-js-2.0` (the default).
    pub runtime: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "FunctionARN")]
    pub function_arn: Option<String>,
    /// The `[[key_value_stores]]` entry (by Name) its `cf.kvs()` reads.
    pub key_value_store: Option<String>,
}

/// A function at one stage of a cache behavior. CloudFront names it by `LambdaFunctionARN`;
/// here a function comes from a `File` (relative to the configuration file).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawAssociation {
    pub event_type: Option<String>,
    pub file: Option<String>,
    /// Lambda's `Handler` (`file.export`) for a package `File`.
    pub handler: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "LambdaFunctionARN")]
    pub lambda_function_arn: Option<String>,
    pub include_body: Option<bool>,
}

/// One shape for both CachePolicy (what is in the cache key, and so forwarded) and
/// OriginRequestPolicy (what is forwarded without being keyed), flattened from CloudFront's
/// `ParametersInCacheKeyAndForwardedToOrigin` / `OriginRequestPolicyConfig`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawKeyPolicy {
    pub query_string_behavior: Option<String>,
    #[serde(default)]
    pub query_strings: Vec<String>,
    pub header_behavior: Option<String>,
    #[serde(default)]
    pub headers: Vec<String>,
    pub cookie_behavior: Option<String>,
    #[serde(default)]
    pub cookies: Vec<String>,
    pub enable_accept_encoding_gzip: Option<bool>,
    pub enable_accept_encoding_brotli: Option<bool>,
}

/// A list of strings as CloudFront's API writes it (`Quantity` and `Items`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawStrings {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<String>,
}

/// CloudFront's `ResponseHeadersPolicyConfig`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawResponseHeadersPolicy {
    /// The Id it is named by (a distribution's `ResponseHeadersPolicies`).
    pub id: Option<String>,
    /// CloudFront's metadata: taken, not used.
    #[allow(dead_code)]
    pub name: Option<String>,
    #[allow(dead_code)]
    pub comment: Option<String>,
    pub cors_config: Option<RawCorsConfig>,
    pub security_headers_config: Option<RawSecurityHeaders>,
    pub custom_headers_config: Option<RawCustomHeaders>,
    pub remove_headers_config: Option<RawRemoveHeaders>,
    pub server_timing_headers_config: Option<RawServerTiming>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCorsConfig {
    pub access_control_allow_origins: Option<RawStrings>,
    pub access_control_allow_headers: Option<RawStrings>,
    pub access_control_allow_methods: Option<RawStrings>,
    pub access_control_allow_credentials: Option<bool>,
    pub access_control_expose_headers: Option<RawStrings>,
    pub access_control_max_age_sec: Option<u64>,
    pub origin_override: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawSecurityHeaders {
    #[serde(rename = "XSSProtection")]
    pub xss_protection: Option<RawXssProtection>,
    pub frame_options: Option<RawFrameOptions>,
    pub referrer_policy: Option<RawReferrerPolicy>,
    pub content_security_policy: Option<RawContentSecurityPolicy>,
    pub content_type_options: Option<RawOverrideOnly>,
    pub strict_transport_security: Option<RawStrictTransportSecurity>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawXssProtection {
    pub r#override: Option<bool>,
    pub protection: Option<bool>,
    pub mode_block: Option<bool>,
    pub report_uri: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawFrameOptions {
    pub r#override: Option<bool>,
    pub frame_option: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawReferrerPolicy {
    pub r#override: Option<bool>,
    pub referrer_policy: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawContentSecurityPolicy {
    pub r#override: Option<bool>,
    pub content_security_policy: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawOverrideOnly {
    pub r#override: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawStrictTransportSecurity {
    pub r#override: Option<bool>,
    pub include_subdomains: Option<bool>,
    pub preload: Option<bool>,
    pub access_control_max_age_sec: Option<u64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCustomHeaders {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<RawCustomHeader>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCustomHeader {
    pub header: Option<String>,
    pub value: Option<String>,
    pub r#override: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawRemoveHeaders {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<RawRemoveHeader>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawRemoveHeader {
    pub header: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawServerTiming {
    pub enabled: Option<bool>,
    pub sampling_rate: Option<f64>,
}

/// `TrustedKeyGroups` (or `TrustedSigners`): `Enabled`, `Quantity`, `Items`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawTrustedList {
    pub enabled: Option<bool>,
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<String>,
}

/// A key group: CloudFront's `KeyGroupConfig` with its public keys written in.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawKeyGroup {
    pub id: Option<String>,
    /// CloudFront's metadata: taken, not used.
    #[allow(dead_code)]
    pub name: Option<String>,
    #[allow(dead_code)]
    pub comment: Option<String>,
    #[serde(default)]
    pub public_keys: Vec<RawPublicKey>,
}

/// CloudFront's `PublicKeyConfig` with the ID CloudFront gave it (the `Key-Pair-Id` of URLs).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawPublicKey {
    pub id: Option<String>,
    /// CloudFront's metadata: taken, not used.
    #[allow(dead_code)]
    pub name: Option<String>,
    #[allow(dead_code)]
    pub comment: Option<String>,
    pub encoded_key: Option<String>,
}

/// `AllowedMethods` as a plain list (`["GET", "HEAD"]`), or as CloudFront's API writes it:
/// `{Quantity, Items, CachedMethods: {Quantity, Items}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawMethods {
    List(Vec<String>),
    Api(RawMethodsApi),
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawMethodsApi {
    pub quantity: Option<u64>,
    #[serde(default)]
    pub items: Vec<String>,
    pub cached_methods: Option<RawStrings>,
}

/// CloudFront's `CachePolicyConfig`, with the Id a behavior names it by.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCachePolicyConfig {
    pub id: Option<String>,
    pub name: Option<String>,
    #[allow(dead_code)]
    pub comment: Option<String>,
    #[serde(rename = "MinTTL")]
    pub min_ttl: Option<u64>,
    #[serde(rename = "DefaultTTL")]
    pub default_ttl: Option<u64>,
    #[serde(rename = "MaxTTL")]
    pub max_ttl: Option<u64>,
    pub parameters_in_cache_key_and_forwarded_to_origin: Option<RawCacheKeyParameters>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCacheKeyParameters {
    pub enable_accept_encoding_gzip: Option<bool>,
    pub enable_accept_encoding_brotli: Option<bool>,
    pub headers_config: Option<RawHeadersConfig>,
    pub cookies_config: Option<RawCookiesConfig>,
    pub query_strings_config: Option<RawQueryStringsConfig>,
}

/// CloudFront's `OriginRequestPolicyConfig`, with the Id a behavior names it by.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawOriginRequestPolicyConfig {
    pub id: Option<String>,
    pub name: Option<String>,
    #[allow(dead_code)]
    pub comment: Option<String>,
    pub headers_config: Option<RawHeadersConfig>,
    pub cookies_config: Option<RawCookiesConfig>,
    pub query_strings_config: Option<RawQueryStringsConfig>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawHeadersConfig {
    pub header_behavior: Option<String>,
    pub headers: Option<RawStrings>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawCookiesConfig {
    pub cookie_behavior: Option<String>,
    pub cookies: Option<RawStrings>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RawQueryStringsConfig {
    pub query_string_behavior: Option<String>,
    pub query_strings: Option<RawStrings>,
}
