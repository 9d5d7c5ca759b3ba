// viewer-request: HTTP Basic authentication in front of the whole distribution.
'use strict';

const USER = 'edge';
const PASSWORD = 'local-secret';
const expected = 'Basic ' + Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

exports.handler = async (event) => {
  const request = event.Records[0].cf.request;
  const auth = request.headers.authorization && request.headers.authorization[0].value;
  if (auth !== expected) {
    return {
      status: '401',
      statusDescription: 'Unauthorized',
      headers: {
        'www-authenticate': [{ key: 'WWW-Authenticate', value: 'Basic realm="edge", charset="UTF-8"' }],
        'content-type': [{ key: 'Content-Type', value: 'text/plain' }],
      },
      body: 'Authentication required\n',
    };
  }
  return request;
};
