export declare const CHROMIUM_PATH: string;
export declare const HEADLESS_SHELL_PATH: string;
export declare function planPrerequisites(
  found: {
    chromium: boolean;
    /** Absent: not needed (only `chromium` needs the headless shell too). */
    headlessShell?: boolean;
    redis: boolean;
    /** Absent: not needed (only `netns` needs `ip` and faketime). */
    ip?: boolean;
    faketime?: boolean;
    promtool?: boolean;
    root: boolean;
    aptGet: boolean;
  },
  command?: string,
): { install: string[]; problem: string | null };
