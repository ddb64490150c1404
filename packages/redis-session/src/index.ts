// @corral/redis-session: work in progress
export {}
