//! HTTP pieces of the viewer side: the response body type, request ids and CloudFront's
//! response headers and error page.

pub mod body;
pub mod ids;
pub mod respond;
