// Lambda@Edge, viewer response: members' answers say who they were served to.
exports.handler = async (event) => {
    const response = event.Records[0].cf.response;
    response.headers['x-members-only'] = [{ key: 'X-Members-Only', value: 'true' }];
    return response;
};
