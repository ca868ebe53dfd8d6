export declare const CHROMIUM_PATH: string;
export declare function planPrerequisites(
  found: {
    chromium: boolean;
    redis: boolean;
    root: boolean;
    aptGet: boolean;
  },
  command?: string,
): { install: string[]; problem: string | null };
