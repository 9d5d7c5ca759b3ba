// CloudFront Functions (cloudfront-js-1.0), viewer-request: serve a static site's pretty URLs.
// `/docs/` and `/docs` both become `/docs/index.html`; a path with a file extension is left
// alone. The rewritten URI is the cache key, so every spelling shares one cached object.
function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    request.uri = uri + '/index.html';
  }
  return request;
}
