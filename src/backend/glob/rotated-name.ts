/**
 * Names that rotation tools give a log's older generations: `x.log.1`, `x.log.2.gz`, `x.log-20251204`
 * (logrotate's dateext), `x.log.old`, compressed copies. A glob or directory stream leaves them out: they are the
 * history of the stream they were rotated from, not streams of their own.
 */
const ROTATED = [/\.\d+$/, /\.(gz|bz2|xz|zst|lz4|z|zip)$/i, /[-_.]\d{8}(\d{2,6})?$/, /\.(old|bak)$/i];

export function isRotatedName(basename: string): boolean {
  return ROTATED.some((re) => re.test(basename));
}
