export declare function readmeCommands(markdown: string): string[];
