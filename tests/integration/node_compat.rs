//! Lambda@Edge code as people publish it, through a real edge: the legacy `new Buffer`
//! constructor in a basic-auth check, `path` in an SPA rewrite, `process.env` for the region.

use crate::harness::*;

#[tokio::test]
async fn basic_auth_with_new_buffer_an_spa_rewrite_and_the_region() {
    let origin = origin();
    let f = write_temp(
        r#"
const path = require('path');
exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const given = (request.headers.authorization || [{ value: '' }])[0].value;
  if (given !== 'Basic ' + new Buffer('user:pass').toString('base64')) {
    return { status: '401', headers: { 'www-authenticate': [{ key: 'WWW-Authenticate', value: 'Basic' }] } };
  }
  if (path.extname(request.uri) === '') request.uri = '/index.html';
  request.headers['x-region'] = [{ key: 'X-Region', value: process.env.AWS_REGION }];
  return request;
};
"#,
    );
    let cfg = NodeToml::for_origin(&origin)
        .function("viewer-request", f.to_str().unwrap())
        .text();
    let (edge, _cfg) = edge_with_config(&cfg, &[]);
    let url = format!("{}/app/settings", edge.base);
    let wrong = "Basic ".to_string() + "dXNlcjp3cm9uZw=="; // user:wrong
    let right = "Basic ".to_string() + "dXNlcjpwYXNz"; // user:pass
    assert_eq!(
        get_with(&url, &[("authorization", &wrong)]).await.status,
        401
    );
    let r = get_with(&url, &[("authorization", &right)]).await;
    assert_ne!(r.status, 401, "{}", r.text());
    assert_eq!(origin.stats().await["paths"]["/index.html"], 1);
}
