// Lambda@Edge, origin request: the API's origins serve from their root, so /api/users reaches
// them as /users; the origin is told which edge function version routed it. Runs again when
// CloudFront fails over to the origin group's second origin.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.uri = request.uri.replace(/^\/api(?=\/)/, '');
    request.headers['x-routed-by'] = [{ key: 'X-Routed-By', value: 'api-route' }];
    return request;
};
