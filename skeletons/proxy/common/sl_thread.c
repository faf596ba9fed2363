/* sl_thread - start a detached thread with a small stack (see sl_thread.h). */
#include "sl_thread.h"

#include <pthread.h>

int sl_start_thread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc = pthread_attr_init(&attr);

	if (rc != 0)
		return rc;
	rc = pthread_attr_setstacksize(&attr, SL_THREAD_STACK);
	if (rc == 0)
		rc = pthread_attr_setdetachstate(&attr,
						 PTHREAD_CREATE_DETACHED);
	if (rc == 0)
		rc = pthread_create(&tid, &attr, fn, arg);
	(void)pthread_attr_destroy(&attr);
	return rc;
}
