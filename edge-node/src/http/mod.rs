//! HTTP pieces: the response body type, the one HTTP(S) client connector, request ids and CloudFront's
//! response headers and error page.

pub mod body;
pub mod client;
pub mod flood;
pub mod ids;
pub mod range;
pub mod respond;
