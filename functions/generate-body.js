// viewer-request: answer /hello at the edge without going to the origin.
'use strict';

exports.handler = async (event) => {
  const { request, config } = event.Records[0].cf;
  if (request.uri !== '/hello') return request;
  const name = new URLSearchParams(request.querystring).get('name') || 'world';
  const safe = name.replace(/[^\w .-]/g, '');
  return {
    status: '200',
    statusDescription: 'OK',
    headers: {
      'content-type': [{ key: 'Content-Type', value: 'text/html; charset=utf-8' }],
      'cache-control': [{ key: 'Cache-Control', value: 'no-store' }],
    },
    body: `<!doctype html><title>Hello</title><h1>Hello, ${safe}!</h1><p>Answered at the edge by ${config.eventType} for request ${config.requestId}.</p>`,
  };
};
