import { heapPerMount } from './monitorCost';

/**
 * Measures the heap per registered mount in a fresh process (node --expose-gc heapPerMountMain.js N),
 * so that garbage left by earlier sections cannot hide in or inflate the difference.
 */
heapPerMount(Number(process.argv[2] ?? 1000))
  .then((bytes) => process.stdout.write(`${JSON.stringify({ bytes })}\n`))
  .catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
