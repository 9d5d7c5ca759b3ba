// CloudFront Functions (cloudfront-js-2.0), viewer-request: a redirect map kept in a
// KeyValueStore, so redirects change with `edge kvs put redirects /go/old /new` and no code
// publish. A path with an entry gets a 301 to its value; any other path goes on to the origin.
import cf from 'cloudfront';

const redirects = cf.kvs();

async function handler(event) {
  const request = event.request;
  try {
    const location = await redirects.get(request.uri);
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: {
        location: { value: location },
        'cache-control': { value: 'max-age=300' },
      },
    };
  } catch (err) {
    // No entry for this path (get throws for a missing key).
    return request;
  }
}
