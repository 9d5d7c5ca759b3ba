// origin-response: give answers a Cache-Control when the origin sent none — an hour for
// successes, ten seconds for 404s — before CloudFront caches them.
'use strict';

exports.handler = async (event) => {
  const response = event.Records[0].cf.response;
  if (!response.headers['cache-control']) {
    const maxAge = response.status === '404' ? 10 : 3600;
    response.headers['cache-control'] = [{ key: 'Cache-Control', value: `public, max-age=${maxAge}` }];
  }
  return response;
};
