/** Exit codes of every command: 0 success, 1 a check failed, 2 usage or unreadable input. */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;
