/* Work put off until bosun-llm's loop has nothing else to do (an ev_idle),
 * but never more than LLM_DEFER_TURNS loop iterations (an ev_prepare
 * counts them): the event lines and agent-socket requests of a round are
 * written after the round's own work (the model's next request goes out
 * first), in one write, so bosund is woken once, when this process would
 * sleep anyway, and not in the middle of the round.  Internal to
 * bosun-llm. */
#ifndef BOSUN_LLM_DEFER_H
#define BOSUN_LLM_DEFER_H

#include <ev.h>

#define LLM_DEFER_TURNS 4

typedef struct llm_defer {
    struct ev_loop *loop;
    ev_idle idle;
    ev_prepare prep;
    unsigned turns;
    void (*fn)(void *arg);
    void *arg;
} llm_defer;

void llm_defer_init(llm_defer *d, struct ev_loop *loop, void (*fn)(void *), void *arg);
/* fn is called once, soon (see above); armed again after it ran. */
void llm_defer_arm(llm_defer *d);
/* Not to be called: fn ran some other way, or the owner is going. */
void llm_defer_stop(llm_defer *d);

#endif
