// @corral/health: work in progress
export {}
