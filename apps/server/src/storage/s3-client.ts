import { createHash } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientSettings {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * An S3 client that works with every store the console is used with (AWS S3, OBS, MinIO, Ceph
 * RGW, OpenStack Swift, the embedded s3rver), not only AWS.
 */
export function createS3Client(settings: S3ClientSettings): S3Client {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    // Self-hosted stores rarely have wildcard DNS for virtual-host buckets.
    forcePathStyle: true,
    // The SDK's default checksums send stream bodies aws-chunked: Swift refuses that (501),
    // @20minutes/s3rver refuses it and older s3rver stores the framing inside the object.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    retryMode: 'standard',
    requestHandler: {
      // A store that is down should be reported in seconds, not after the OS's connect timeout.
      connectionTimeout: 5_000,
      // Idle time on an open socket: a stalled server fails the call, a stream that still moves
      // (a long upload or download) never does.
      socketTimeout: 120_000,
      // The handler's requestTimeout (time until the answer's headers) only logs a warning
      // unless this is set. It is given per call by S3ObjectStore to calls without a streamed
      // body; none is set here, so a large part's upload is never cut short.
      throwOnRequestTimeout: true,
    },
  });

  // DeleteObjects must carry Content-MD5 on Swift (and on S3 itself before CRC checksums);
  // SDKs since 3.729 only send a CRC32 checksum.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request;
      if (context.commandName === 'DeleteObjectsCommand' && isHttpRequest(request) && !hasHeader(request.headers, 'content-md5')) {
        const body = request.body;
        if (typeof body === 'string' || body instanceof Uint8Array) {
          request.headers['content-md5'] = createHash('md5').update(body).digest('base64');
        }
      }
      return next(args);
    },
    { step: 'build', name: 'tcContentMd5ForDeleteObjects', override: true },
  );
  return client;
}

interface HttpRequestLike {
  headers: Record<string, string>;
  body?: unknown;
}

function isHttpRequest(v: unknown): v is HttpRequestLike {
  return typeof v === 'object' && v !== null && typeof (v as { headers?: unknown }).headers === 'object';
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}
