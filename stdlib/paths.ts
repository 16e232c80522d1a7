// Paths hidden from or made read-only in every container by default, as
// runc, containerd and docker do: kernel interfaces that leak host
// information or let a container reconfigure the host.

/** Masked: a directory gets an empty read-only tmpfs, a file /dev/null. */
export const maskedPaths = {
  default: [
    '/proc/acpi',
    '/proc/asound',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/proc/scsi',
    '/sys/firmware',
    '/sys/devices/virtual/powercap',
  ] as readonly string[],
};

/** Read-only: bound onto themselves and remounted read-only. */
export const readonlyPaths = {
  default: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as readonly string[],
};
