// origin-request: a greeting and prices in the viewer's currency, generated at the edge from
// CloudFront-Viewer-Country (and cached per country: the header is in the cache key).
'use strict';

const LOCALE = {
  DE: { greeting: 'Hallo', currency: 'EUR' },
  AT: { greeting: 'Servus', currency: 'EUR' },
  FR: { greeting: 'Bonjour', currency: 'EUR' },
  GB: { greeting: 'Hello', currency: 'GBP' },
  JP: { greeting: 'こんにちは', currency: 'JPY' },
  US: { greeting: 'Hi', currency: 'USD' },
};

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const header = (name) => request.headers[name] && request.headers[name][0].value;
  const country = header('cloudfront-viewer-country') || 'unknown';
  const city = decodeURIComponent(header('cloudfront-viewer-city') || '');
  const { greeting, currency } = LOCALE[country] || { greeting: 'Hello', currency: 'USD' };
  const body = JSON.stringify({ greeting, currency, country, city });
  return {
    status: '200',
    headers: {
      'content-type': [{ key: 'Content-Type', value: 'application/json; charset=utf-8' }],
      'cache-control': [{ key: 'Cache-Control', value: 'max-age=300' }],
    },
    body,
  };
};
