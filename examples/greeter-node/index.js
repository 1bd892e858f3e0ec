// An API Gateway handler that uses a module from a layer.
const { greet } = require('greeter');

exports.handler = async (event) => {
  const name = (event.queryStringParameters || {}).name;
  if (!name) {
    return { statusCode: 400, body: JSON.stringify({ error: 'name is required' }) };
  }
  return { statusCode: 200, body: JSON.stringify({ message: greet(name) }) };
};
