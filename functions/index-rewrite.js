// origin-request: serve index.html for `/` and every directory URI, as S3 website hosting does.
'use strict';

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  if (request.uri.endsWith('/')) {
    request.uri += 'index.html';
  } else if (!request.uri.split('/').pop().includes('.')) {
    request.uri += '/index.html';
  }
  return request;
};
