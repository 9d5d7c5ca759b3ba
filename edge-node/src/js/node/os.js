// node:os — compiled the first time a function asks for it (not in every isolate), from
// the runtime's own helpers; see runtime.js "Node modules made on first use".
((helpers) => {
  "use strict";
  const { process, started } = helpers;
  // ---- os: what Lambda code reads of the machine (a Lambda sandbox's values) ---------------
  const os = {
    EOL: "\n", devNull: "/dev/null",
    platform: () => "linux", type: () => "Linux", arch: () => "x64", machine: () => "x86_64", endianness: () => "LE",
    release: () => "5.10.227-239.884.amzn2.x86_64", version: () => "#1 SMP Tue Oct 22 16:38:14 UTC 2024",
    hostname: () => "169.254.10.245", homedir: () => "/home/sbx_user1051", tmpdir: () => "/tmp",
    uptime: () => Math.floor((Date.now() - started) / 1000), loadavg: () => [0, 0, 0],
    totalmem: () => Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || 128) * 1048576,
    freemem: () => Math.floor(Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE || 128) * 1048576 / 2),
    availableParallelism: () => 2,
    cpus: () => Array.from({ length: 2 }, () => ({ model: "Intel(R) Xeon(R) Processor @ 2.50GHz", speed: 2500, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } })),
    networkInterfaces: () => ({}),
    userInfo: () => ({ uid: 993, gid: 990, username: "sbx_user1051", homedir: "/home/sbx_user1051", shell: null }),
    constants: { signals: { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }, errno: {}, priority: {} },
  };
  return os;
})
