// criu's RPC messages as bytes (protobuf's wire format, rpc.proto's field numbers): what tsrunc
// sends criu swrk, and what it reads back. Needs no root and no criu.
import t from 'tap';
import { decodeResponse, encodeRequest } from '../src/container/criu-rpc.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');
const ascii = (text: string): string => Buffer.from(text).toString('hex');

t.test('requests', async (t) => {
  t.same(encodeRequest('NOTIFY', undefined, true), hex('08 06 18 01'), 'the answer to a notification: type 6, notify_success');
  const opts = [
    '08 05', // images_dir_fd 5
    '10 96 01', // pid 150: a varint of two bytes
    `52 08 ${ascii('dump.log')}`, // log_file (10)
    `aa 02 01 ${ascii('a')} aa 02 01 ${ascii('b')}`, // external (37), repeated: a key of two bytes, each value a field
    '88 03 ff ff ff ff ff ff ff ff ff 01', // status_fd (49) -1: int32 negatives take ten bytes
  ].join('');
  const request = encodeRequest('DUMP', { imagesDirFd: 5, pid: 150, logFile: 'dump.log', external: ['a', 'b'], statusFd: -1 });
  t.same(request, hex(`08 01 12 ${(opts.replace(/ /g, '').length / 2).toString(16)} ${opts}`), 'a dump: type 1, opts (2) nested');
  t.same(encodeRequest('RESTORE', { imagesDirFd: 3, inheritFds: [{ key: 'k', fd: 4 }], leaveRunning: false }),
    hex(`08 02 12 0c 08 03 18 00 da 01 05 0a 01 ${ascii('k')} 10 04`), 'a restore: a false bool is sent, inherit_fd (27) is a nested message');
});

t.test('responses', async (t) => {
  t.same(decodeResponse(hex('08 01 10 01')), { type: 1, success: true }, 'a dump done');
  t.same(decodeResponse(hex('08 02 10 01 22 03 08 d2 09')), { type: 2, success: true, restoredPid: 1234 }, 'a restore, with its pid');
  t.same(decodeResponse(hex(`08 06 10 01 2a 14 0a 10 ${ascii('setup-namespaces')} 10 2a`)),
    { type: 6, success: true, notify: { script: 'setup-namespaces', pid: 42 } }, 'a notification, with its script and pid');
  t.same(decodeResponse(hex(`08 01 10 00 38 02 4a 03 ${ascii('err')} 58 07`)), { type: 1, success: false, errno: 2, errmsg: 'err' },
    'a failure, with errno and message; an unknown field (status, 11) is skipped');
  t.throws(() => decodeResponse(hex('08 01 12 05 00')), /truncated field/, 'a length past the end');
  t.throws(() => decodeResponse(hex('10 01')), /no type/, 'a response without its required type');
});
