#include <re.h>
#include "ua/autoanswer.h"


int autoanswer_print(struct re_printf *pf, const char *domain)
{
	return re_hprintf(pf, "Call-Info: <sip:%s>;answer-after=0\r\n"
			  "Alert-Info: <http://127.0.0.1/intercom>"
			  ";info=alert-autoanswer;delay=0\r\n", domain);
}
