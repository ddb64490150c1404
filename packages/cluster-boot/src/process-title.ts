/**
 * `corral primary [name]` / `corral worker [name] <slot>`: CORRAL_NAME
 * (`corral start --name`) tells apart the processes of several apps in ps/top.
 */
export function processTitle (role: 'primary' | 'worker', slot?: number): string {
  const name = process.env.CORRAL_NAME
  return ['corral', role, name === undefined || name === '' ? undefined : name, slot].filter((part) => part !== undefined).join(' ')
}
