// A stand-in for a fault, preloaded (node --require) into a built app by test/logging.e2e-spec.ts:
// a request with `x-fault: throw` ends the process with an uncaught exception, `x-fault: exit` with
// process.exit(3), each right after the request's answer and its log line.
const http = require('node:http');

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, request, response) {
  const fault = event === 'request' ? request.headers['x-fault'] : undefined;
  if (fault === 'throw' || fault === 'exit')
    response.once('close', () =>
      setImmediate(() => {
        if (fault === 'exit') process.exit(3);
        throw new Error('a fault the test asked for');
      }),
    );
  return emit.apply(this, arguments);
};
