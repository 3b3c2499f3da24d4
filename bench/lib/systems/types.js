/**
 * The shape every system under test implements (livetrail and its peers), documented once here.
 *
 * @typedef {{ port: number, file: string, stream?: string }} Target where clients connect
 * @typedef {{ pid: number, port: number, target: Target, stop: () => Promise<void>, output: () => string }} Server
 * @typedef {{ file: string, tailLines?: number, poll?: boolean, args?: string[], nodeArgs?: string[],
 *   redis?: { url: string, stream: string }, docker?: { root: string, stream: string } }} StartOptions  `redis`,
 *   `docker`: livetrail only (serve --redis, serve --docker)
 * @typedef {(text: string, recvMs: number) => void} OnLine
 * @typedef {{ onLine: OnLine, onGap?: (msg: unknown) => void, onClose?: (code: number) => void, tailLines?: number }} ConnectOptions
 * @typedef {{ close: () => Promise<void>, pause: () => void, resume: () => void }} Conn
 * @typedef {{ name: string, start: (o: StartOptions) => Promise<Server>, connect: (t: Target, o: ConnectOptions) => Promise<Conn> }} System
 */
export {};
