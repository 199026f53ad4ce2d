// The baseline of the cold figures: a handler that does nothing but answer. It reads the event like
// every FC handler must, so the time a cold run takes beyond this one is the bundle's own.
'use strict';
/* global Buffer */
module.exports.handler = async (event) => {
  JSON.parse(Buffer.isBuffer(event) ? event.toString('utf8') : String(event));
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}', isBase64Encoded: false };
};
