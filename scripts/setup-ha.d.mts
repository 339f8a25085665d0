/** Types of what the tests take from scripts/setup-ha.mjs (plain Node: it runs before node_modules exist). */

/** The command (program and arguments) that runs argv inside a chroot in a private mount and PID namespace. */
export function chrootCommand(rootfs: string, argv: readonly string[]): [string, string[]];
