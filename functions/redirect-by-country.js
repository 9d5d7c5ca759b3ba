// origin-request: send viewers in Germany to /de/..., using the CloudFront-Viewer-Country
// header CloudFront adds after viewer-request. The redirect is cached like an origin answer,
// so the behavior's cache policy must include CloudFront-Viewer-Country in the key.
'use strict';

const LOCAL = { DE: '/de', AT: '/de', CH: '/de', FR: '/fr' };

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const country = request.headers['cloudfront-viewer-country'];
  const prefix = country && LOCAL[country[0].value];
  if (prefix && !request.uri.startsWith(prefix + '/')) {
    return {
      status: '302',
      statusDescription: 'Found',
      headers: {
        location: [{ key: 'Location', value: prefix + request.uri + (request.querystring ? '?' + request.querystring : '') }],
        'cache-control': [{ key: 'Cache-Control', value: 'max-age=3600' }],
      },
    };
  }
  return request;
};
