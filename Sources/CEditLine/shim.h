#include <stdio.h>
#include <unistd.h>
#include <editline/readline.h>

/* The prompt drives libedit through its callback interface from one thread (see the drizzle
   executable's Console). Everything below is used from that thread only. Swift 6 treats a C
   global as shared mutable state, so libedit's globals are set and read through functions. */

static inline void drizzle_editline_leave_signals(void) { rl_catch_signals = 0; }

/* libedit reads the terminal through this function: one character (a Unicode scalar, decoded
   from UTF-8 here, since libedit's readline layer takes each value as a whole character), or
   first a character the prompt injected. Ctrl-C is such an injection: the process catches SIGINT
   itself, so libedit never sees the key. */
static int drizzle_editline_injected = -1;
static int drizzle_editline_input_ended = 0;

static int drizzle_editline_getc(FILE *stream) {
    (void)stream;
    if (drizzle_editline_injected >= 0) {
        int injected = drizzle_editline_injected;
        drizzle_editline_injected = -1;
        return injected;
    }
    unsigned char byte;
    if (read(STDIN_FILENO, &byte, 1) != 1) {
        drizzle_editline_input_ended = 1;
        return -1;
    }
    int extra = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0;
    int scalar = extra == 3 ? byte & 0x07 : extra == 2 ? byte & 0x0F : extra == 1 ? byte & 0x1F : byte;
    for (int index = 0; index < extra; index++) {
        unsigned char next;
        if (read(STDIN_FILENO, &next, 1) != 1 || (next & 0xC0) != 0x80) return 0xFFFD;
        scalar = (scalar << 6) | (next & 0x3F);
    }
    return scalar;
}

/* Call before the first rl_callback_handler_install (libedit takes the function when it starts). */
static inline void drizzle_editline_use_getc(void) { rl_getc_function = drizzle_editline_getc; }

static inline int drizzle_editline_ended(void) { return drizzle_editline_input_ended; }

/* Ctrl-C becomes the key ^_ (unused by libedit's emacs bindings), bound with rl_add_defun: libedit
   refreshes rl_end only around such functions. It notes whether the line was empty. */
static int drizzle_editline_line_was_empty = 1;

static int drizzle_editline_interrupt_key(int count, int key) {
    (void)count;
    (void)key;
    drizzle_editline_line_was_empty = rl_end == 0;
    return 0;
}

/* Binds the interrupt key; call after rl_callback_handler_install (which starts libedit). */
static inline void drizzle_editline_bind_interrupt(void) {
    rl_add_defun("drizzle-interrupt", drizzle_editline_interrupt_key, 0x1F);
}

/* Empties the line being edited (moving to its end, then Ctrl-U: libedit's em-kill-line in its
   emacs bindings); returns 1 when it was already empty. */
static inline int drizzle_editline_interrupt(void) {
    drizzle_editline_line_was_empty = 1;
    drizzle_editline_injected = 0x1F;
    rl_callback_read_char();
    if (!drizzle_editline_line_was_empty) {
        drizzle_editline_injected = 0x05;
        rl_callback_read_char();
        drizzle_editline_injected = 0x15;
        rl_callback_read_char();
    }
    return drizzle_editline_line_was_empty;
}
