// One process: the baseline. Also the script PM2 runs in cluster mode.
import { listenAlone } from './hello.mjs'

await listenAlone()
