/** kafkajs-snappy ships no types: a kafkajs codec factory (xerial-framed or raw snappy in, raw snappy out). */
declare module 'kafkajs-snappy' {
  const snappyCodec: () => {
    compress(encoder: { buffer: Buffer }): Promise<Buffer>;
    decompress(buffer: Buffer): Promise<Buffer>;
  };
  export = snappyCodec;
}
