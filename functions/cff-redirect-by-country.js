// CloudFront Functions (cloudfront-js-2.0), viewer-request: send viewers to their country's
// store by CloudFront-Viewer-Country (a policy of the behavior must name that header for a
// viewer-request function to see it). Viewers already on a country path, or from elsewhere,
// go on unchanged.
const STORES = { DE: '/de', AT: '/de', CH: '/de', FR: '/fr', GB: '/uk' };

function handler(event) {
  const request = event.request;
  const country = request.headers['cloudfront-viewer-country'];
  const prefix = country && STORES[country.value];
  if (!prefix || request.uri.startsWith(prefix + '/')) {
    return request;
  }
  const query = Object.keys(request.querystring)
    .map((k) => `${k}=${request.querystring[k].value}`)
    .join('&');
  return {
    statusCode: 302,
    statusDescription: 'Found',
    headers: {
      location: { value: prefix + request.uri + (query ? '?' + query : '') },
      'cache-control': { value: 'private, max-age=0' },
    },
  };
}
