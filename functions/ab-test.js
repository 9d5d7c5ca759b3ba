// viewer-request: A/B test by cookie. Viewers with `experiment=b` get /experiment-b/...,
// everyone else /experiment-a/...; viewers without the cookie are assigned at random.
// Because this runs at viewer-request, the rewritten URI is what the cache keys on.
'use strict';

const COOKIE = 'experiment';

function groupFrom(headers) {
  for (const { value } of headers.cookie || []) {
    for (const part of value.split(';')) {
      const [name, val] = part.trim().split('=');
      if (name === COOKIE && (val === 'a' || val === 'b')) return val;
    }
  }
  return null;
}

exports.handler = (event, context, callback) => {
  const request = event.Records[0].cf.request;
  const group = groupFrom(request.headers) || (Math.random() < 0.5 ? 'a' : 'b');
  request.uri = `/experiment-${group}${request.uri}`;
  callback(null, request);
};
