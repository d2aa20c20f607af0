#include <stdio.h>
#include <editline/readline.h>

/* libedit's globals, read and set through functions: Swift 6 treats a C global as shared
   mutable state. The prompt touches them from its one reading thread only. */
static inline void drizzle_editline_leave_signals(void) { rl_catch_signals = 0; }
static inline const char *drizzle_editline_line(void) { return rl_line_buffer; }
