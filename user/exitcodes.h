/* Documented exit codes (README "Exit codes"). With -- COMMAND, COMMAND's own status. */
#ifndef TV_EXITCODES_H
#define TV_EXITCODES_H

#define TV_EXIT_OK 0
#define TV_EXIT_RUNTIME 1 /* a failure while running */
#define TV_EXIT_USAGE 2   /* bad options */
#define TV_EXIT_PRIV 3    /* missing privilege or kernel feature */

#endif
