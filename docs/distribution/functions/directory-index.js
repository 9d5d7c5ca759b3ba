// CloudFront Function (cloudfront-js-2.0), viewer request: a URL that names a folder gets the
// folder's index.html, as a static site on S3 needs (S3 has no directory indexes).
function handler(event) {
    var request = event.request;
    if (request.uri.endsWith('/')) {
        request.uri += 'index.html';
    }
    return request;
}
