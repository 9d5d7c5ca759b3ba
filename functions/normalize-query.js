// viewer-request: normalize the query string for a better cache hit ratio — lowercase names,
// drop tracking parameters, sort what is left.
'use strict';
const querystring = require('querystring');

const TRACKING = /^(utm_|fbclid$|gclid$)/;

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const params = querystring.parse(request.querystring);
  const kept = {};
  for (const name of Object.keys(params).map((n) => n.toLowerCase()).sort()) {
    if (!TRACKING.test(name)) kept[name] = params[Object.keys(params).find((n) => n.toLowerCase() === name)];
  }
  request.querystring = querystring.stringify(kept);
  return request;
};
