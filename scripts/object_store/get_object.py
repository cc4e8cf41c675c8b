#!/usr/bin/env python3
"""Print one S3 object's bytes to stdout.

    get_object.py ENDPOINT BUCKET KEY

Uses the local moto server's dummy credentials (access key and secret `test`, region
us-east-1). Exits 1 with a message on stderr when the object (or bucket) is missing or
the request fails.
"""
import sys

import boto3
import botocore.exceptions


def main(argv):
    if len(argv) != 4:
        print("usage: get_object.py ENDPOINT BUCKET KEY", file=sys.stderr)
        return 2
    endpoint, bucket, key = argv[1:]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except botocore.exceptions.ClientError as e:
        code = e.response.get("Error", {}).get("Code", "?")
        print(f"get_object.py: s3://{bucket}/{key}: {code}: {e}", file=sys.stderr)
        return 1
    except botocore.exceptions.BotoCoreError as e:
        print(f"get_object.py: s3://{bucket}/{key}: {e}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
