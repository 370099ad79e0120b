/* test_rules.c - the shipped etc/trackers.conf loads cleanly and classifies a
 * real-shaped URL of every vendor; unwrap and anonymize recipes give exact
 * results; bad files are reported line by line; risky regexes are refused. */
#include "build-config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rules.h"
#include "tap.h"

static struct rules *R;

static void
load_shipped(void)
{
	const char *top = getenv("top_srcdir");
	struct cfg_error *errs = NULL;
	char path[4096];

	snprintf(path, sizeof path, "%s/etc/trackers.conf", top ? top : "..");
	R = rules_load(path, &errs);
	if (R == NULL)
		cfg_errors_print(errs, stderr);
	cfg_errors_free(errs);
}

static void
free_shipped(void)
{
	rules_free(R);
	R = NULL;
}

START_TEST(shipped_file_loads)
{
	ck_assert_ptr_nonnull(R);
	ck_assert_uint_gt(rules_count(R), 100);
}
END_TEST

struct vcase {
	const char *url;
	unsigned mask;
	enum rule_kind kind;	/* 0: no rule may match */
	const char *vendor;	/* prefix of the vendor name */
	const char *unwrapped;	/* expected rules_unwrap() result, or NULL */
};

#define PX	(RULE_PIXEL | RULE_EXEMPT | RULE_FUNCTIONAL)
#define LK	(RULE_LINK | RULE_PARAM | RULE_EXEMPT | RULE_FUNCTIONAL)

static const struct vcase vcases[] = {
	/* recoverable destinations */
	{ "https://abc123.r.us-east-1.awstrack.me/L0/https:%2F%2Fshop.example.com%2Fa%252Fb%3Fx=1%26y=2/1/0100018bd2c8e9a1-4f1b7a5e-2c2d-4a1e-9f55-2b8f3c1d0e9a-000000/Xy1zAbC=123",
	  LK, RULE_LINK, "Amazon SES", "https://shop.example.com/a%2Fb?x=1&y=2" },
	{ "https://abc123.r.eu-west-1.awstrack.me/CL0/http:%2F%2Fexample.org%2F/2/0100018bd2c8e9a1-4f1b7a5e/abc=",
	  LK, RULE_LINK, "Amazon SES", "http://example.org/" },
	{ "https://track.brand.example/CL0/https:%2F%2Fbrand.example%2Fsale/1/010001abcdef0123-aa/x=",
	  LK, RULE_LINK, "Amazon SES", "https://brand.example/sale" },
	{ "https://abc123.r.us-east-1.awstrack.me/I0/0100018bd2c8e9a1-4f1b7a5e-2c2d-4a1e-9f55-2b8f3c1d0e9a-000000/HASH=",
	  PX, RULE_PIXEL, "Amazon SES", NULL },
	{ "https://click.pstmrk.it/3s/www.example.org%2Fnews%2F2024%3Fref=pm/AbCd/EfGh/IjKlMn",
	  LK, RULE_LINK, "Postmark", "https://www.example.org/news/2024?ref=pm" },
	{ "http://click.pstmrk.it/2/example.org%2F/AbCd/EfGh",
	  LK, RULE_LINK, "Postmark", "http://example.org/" },
	/* shapes as published in public code and mail archives */
	{ "https://click.pstmrk.it/2s/www.yelp.com%2Fbiz%2Fmilwaukee-ale-house-milwaukee/KEmubcRD/l9bQ/GbCnnc3c86",
	  LK, RULE_LINK, "Postmark", "https://www.yelp.com/biz/milwaukee-ale-house-milwaukee" },
	{ "https://click.pstmrk.it/3ts/dashboard.render.com%2Femail-confirm%2F%3Ftoken%3DBsD3U9Bssm0hbr2jNeRdSJrvfDS9UgldRWCsBtG_PVRNYKoSOLjhz23c948p5XOjTcd86FY5EPNBvcyR/9ZkK/wLtpSZ/OC/14pwv10x-wj9v-74w6-5a75-29170gyjex3m/6/71FO_68IEn",
	  LK, RULE_LINK, "Postmark", "https://dashboard.render.com/email-confirm/?token=BsD3U9Bssm0hbr2jNeRdSJrvfDS9UgldRWCsBtG_PVRNYKoSOLjhz23c948p5XOjTcd86FY5EPNBvcyR" },
	{ "https://lnks.gd/l/eyJhbGciOiJIUzI1NiJ9.eyJidWxsZXRpbl9saW5rX2lkIjoxMDIsInVyaSI6ImJwMjpjbGljayIsInVybCI6Imh0dHBzOi8vd3d3Lmp1c3RpY2UuZ292L29wYS9tZWRpYS8xMzM2NDIxL2RsP2lubGluZT0mdXRtX21lZGl1bT1lbWFpbCZ1dG1fc291cmNlPWdvdmRlbGl2ZXJ5IiwiYnVsbGV0aW5faWQiOiIyMDI0MDEzMS44OTQzMDk5MSJ9.8IWNLVmHECfEhVHA7s_-FIjAEnr5TskEW8TUVx0oYV/z/866661760/gc/372159010928-l",
	  LK, RULE_LINK, "GovDelivery", "https://www.justice.gov/opa/media/1336421/dl?inline=&utm_medium=email&utm_source=govdelivery" },
	{ "https://click.convertkit-mail2.com/d5tacgtm24l9lp1d77ppjcedx5x47wfqagqle/8ayqj1wiqlfl38ry/aHR0cHM6Ly93d3cuZGFpbHlkb3Nlb2Zkcy5jb20vbWVtYmVyc2hpcC8=",
	  LK, RULE_LINK, "ConvertKit", "https://www.dailydoseofds.com/membership/" },
	{ "https://ecfb933d.click.convertkit-mail2.com/x3g87lx0a4p4g9lozxllchdhpg537tta75116/37fnz5c6om12feae/aHR0cHM6Ly9uZXdzbGV0dGVyLmJsdWVza3lkaXJlY3RvcnkuY29tL3Bvc3RzL2JsdWVza3ktZGlyZWN0b3J5LWlzc3VlLTYxLXRoaXMtd2Vlay1pbi1ibHVlc2t5",
	  LK, RULE_LINK, "ConvertKit", "https://newsletter.blueskydirectory.com/posts/bluesky-directory-issue-61-this-week-in-bluesky" },
	{ "https://sozuet97.r.eu-west-1.awstrack.me/L0/https:%2F%2Fauthors.elsevier.com%2Ftracking%2Farticle%2Fdetails.do%3Faid=104706%26jid=COSE%26surname=Vasan/1/52882001q2633a4g-48395486-205o-9q68-2r2q-q07290yz22ep-000000/t_xD805VqQrp18bhGiBYdq7rAYc=759",
	  LK, RULE_LINK, "Amazon SES", "https://authors.elsevier.com/tracking/article/details.do?aid=104706&jid=COSE&surname=Vasan" },
	/* a raw space in the destination: encoded as a browser would */
	{ "https://q9q3478r.r.ap-south-1.awstrack.me/L0/https:%2F%2Fwww.instagram.com%2FForever Medspa_official%2F/1/7838483oe616o5cv-hn1gv4z1-y25e-4eo3-x167-fv3f6qm5n3l5-000000/cxLAKRoowa6kqT_JqCDZHdcIiby=242",
	  LK, RULE_LINK, "Amazon SES", "https://www.instagram.com/Forever%20Medspa_official/" },
	{ "https://e.customeriomail.com/e/c/eyJlbWFpbF9pZCI6ImRnVGlxd29BQUtNMW9qVUJsSW93aWM5TTZxZHZRSUhnMUU1ciIsImhyZWYiOiJodHRwczovL2dvLmxlbW9uYWRlLmNvbS92aXNpdC8_YnRhPTM1NDUyXHUwMDI2YnJhbmQ9cmVudCIsImludGVybmFsIjoiZTJhYjBhMDBhMjM1YTMzNSIsImxpbmtfaWQiOjEwfQ/64d288e7f514a2da401ca9bac1da5864920",
	  LK, RULE_LINK, "Customer.io", "https://go.lemonade.com/visit/?bta=35452&brand=rent" },
	{ "https://substack.com/redirect/2/eyJlIjoiaHR0cHM6Ly9zaW1vbncuc3Vic3RhY2suY29tL2FjdGlvbi9kaXNhYmxlX2VtYWlsP3Rva2VuPWFiYyJ9",
	  LK, RULE_LINK, "Substack", "https://simonw.substack.com/action/disable_email?token=abc" },
	{ "https://substack.com/redirect/q312i0fg-4483-4oq2-45z0-iba0x8838ph7?j=eyJ1IjoicXd0ciJ9.1vUnvpRmqjwGHKGwXUemlbEA_cUXInF01vmqvJT-hWj",
	  LK, RULE_LINK, "Substack", NULL },
	{ "https://mandrillapp.com/track/click/30364/www.example.com?p=eyJwIjogIntcInVcIjogMzAzNjQsIFwidlwiOiAxLCBcInVybFwiOiBcImh0dHBzOi8vd3d3LmV4YW1wbGUuY29tL29mZmVyP2lkPTdcIiwgXCJpZFwiOiBcImYxZTJkM1wifSJ9",
	  LK, RULE_LINK, "Mandrill", "https://www.example.com/offer?id=7" },
	{ "https://mandrillapp.com/track/open.php?u=30364&id=f1e2d3", PX, RULE_PIXEL, "Mandrill", NULL },
	{ "https://e.customeriomail.com/e/c/eyJlbWFpbF9pZCI6ICJkZ1NQQlFVQUFYR3MiLCAiaHJlZiI6ICJodHRwczovL2RvY3MuZXhhbXBsZS5jb20vc3RhcnQiLCAiaW50ZXJuYWwiOiAiYWJjIn0/5f1b2c",
	  LK, RULE_LINK, "Customer.io", "https://docs.example.com/start" },
	{ "https://e.customeriomail.com/e/o/eyJlbWFpbF9pZCI6ImRnU1AifQ==", PX, RULE_PIXEL, "Customer.io", NULL },
	{ "https://open.convertkit-mail4.com/n6ayzlugm6ganfndc6sl", PX, RULE_PIXEL, "ConvertKit", NULL },
	{ "https://unsubscribe.convertkit-mail4.com/n6ayzlugm6ganfndc6sl", LK, RULE_FUNCTIONAL, "ConvertKit", NULL },
	{ "https://embed.filekitcdn.com/e/oY2EAb82U6cSt5xQFEL4Fq/fCDmpYzZz3jeBpK0T6CwT2/email", PX, 0, NULL, NULL },
	{ "https://trk.klclick1.com/wf/open?upn=3TMtGPfSgB6qFMldEh-3BryvbVKDmTORuyJunJSh6M", PX, RULE_PIXEL, "Klaviyo", NULL },
	{ "https://i2k94oe4qpgsit.cloudfront.net/company/VLO8oF/images/00t7o379-72z7-6dc2-lnlc-788v0b215810.png", PX, 0, NULL, NULL },
	{ "https://manage.kmail-lists.com/subscriptions/unsubscribe?a=VLO8oF&c=86UZ20CTXWD3EPJZZFVZX3CL9Y", LK, RULE_FUNCTIONAL, "Klaviyo", NULL },
	{ "https://click.convertkit-mail2.com/v8u0x6l9/8ghh7e4k/aHR0cHM6Ly9leGFtcGxlLm5ldC9wb3N0LzQy",
	  LK, RULE_LINK, "ConvertKit", "https://example.net/post/42" },
	{ "https://click.convertkit-mail2.com/v8u0x6l9/8ghh7e4k/aHR0cHM6Ly9leGFtcGxlLm5ldC9wP2E9MQ==",
	  LK, RULE_LINK, "ConvertKit", "https://example.net/p?a=1" },
	{ "https://substack.com/redirect/2/eyJlIjogImh0dHBzOi8vd3d3LmV4YW1wbGUuY29tL2FydGljbGUiLCAicCI6IDEyMywgInMiOiA0NTYsICJmIjogdHJ1ZSwgInUiOiA3ODksICJpc0ZyZWVtYWlsIjogdHJ1ZX0.Qm9ndXNTaWduYXR1cmU",
	  LK, RULE_LINK, "Substack", "https://www.example.com/article" },
	{ "https://eotrx.substackcdn.com/open?token=eyJtIjoiMTIzIn0&s=1", PX, RULE_PIXEL, "Substack", NULL },
	{ "https://lnks.gd/l/eyJhbGciOiJIUzI1NiJ9.eyJidWxldGluX2xpbmtfaWQiOiAiMTAzIiwgInN1YnNjcmliZXJfaWQiOiAiMTIzIiwgInVybCI6ICJodHRwczovL3d3dy5hZ2VuY3kuZXhhbXBsZS5nb3YvbmV3cz91dG1fbWVkaXVtPWVtYWlsIn0.c2lnbmF0dXJl",
	  LK, RULE_LINK, "GovDelivery", "https://www.agency.example.gov/news?utm_medium=email" },
	{ "https://links.govdelivery.com/track?type=click&enid=ZWFzPTE&msgid=1&url=https%3A%2F%2Fwww.example.gov%2Fpage",
	  LK, RULE_LINK, "GovDelivery", "https://www.example.gov/page" },
	{ "https://links.govdelivery.com/track?type=open&enid=ZWFzPTE&msgid=1", PX, RULE_PIXEL, "GovDelivery", NULL },
	{ "https://mailtrack.io/trace/link/2b7a9c?url=https%3A%2F%2Fexample.com%2Fdoc&userId=123&signature=abc",
	  LK, RULE_LINK, "mailtrack", "https://example.com/doc" },
	{ "https://mailtrack.io/trace/mail/2b7a9cf00d.png?u=123", PX, RULE_PIXEL, "mailtrack", NULL },
	/* opaque vendors */
	{ "https://pointer.us9.list-manage.com/track/click?u=e9492ff27d760c578a39d0675&id=6085259441&e=626d6fa0c9",
	  LK, RULE_LINK, "Mailchimp", NULL },
	{ "https://pointer.us9.list-manage.com/track/open.php?u=e9492ff27d&id=6085259441&e=626d6fa0c9",
	  PX, RULE_PIXEL, "Mailchimp", NULL },
	{ "https://pointer.us9.list-manage.com/unsubscribe?u=e9492ff27d&id=abc&e=626d6fa0c9&c=1",
	  LK, RULE_FUNCTIONAL, "Mailchimp", NULL },
	{ "https://mailchi.mp/abc123/issue-42?e=626d6fa0c9", LK, RULE_FUNCTIONAL, "Mailchimp", NULL },
	{ "https://u1234567.ct.sendgrid.net/ls/click?upn=abcDEF-2BghiJKL", LK, RULE_LINK, "SendGrid", NULL },
	{ "https://url9123.news.example.com/ls/click?upn=abcDEF-2BghiJKL", LK, RULE_LINK, "SendGrid", NULL },
	{ "https://u1234567.ct.sendgrid.net/wf/open?upn=abcDEF", PX, RULE_PIXEL, "SendGrid", NULL },
	{ "https://u1234567.ct.sendgrid.net/wf/unsubscribe?upn=abcDEF", LK, RULE_FUNCTIONAL, "SendGrid", NULL },
	{ "https://ctrk.klclick.com/l/01HABCDEF_123", LK, RULE_LINK, "Klaviyo", NULL },
	{ "https://trk.klclick3.com/ls/open?x=1", PX, RULE_PIXEL, "Klaviyo", NULL },
	{ "https://email.mg.shop.example/c/eJwljEsKwzAMBc-SrQmJYtlJ7Hb7BdH7IEj2QoMd", LK, RULE_LINK, "Mailgun", NULL },
	{ "https://email.mg.shop.example/o/eJwljEsKwzAMBc-SrQmJYtlJ7Hb7BdH7IEj2QoMd", PX, RULE_PIXEL, "Mailgun", NULL },
	{ "https://email.mg.shop.example/u/eJwljEsKwzAMBc-SrQmJYtlJ7Hb7BdH7IEj2QoMd", LK, RULE_FUNCTIONAL, "Mailgun", NULL },
	{ "https://d2v8tf04.na1.hubspotlinks.com/Ctc/DM+113/d2v8tf04/VWgDg", LK, RULE_LINK, "HubSpot", NULL },
	{ "https://t.hubspotemail.net/e2t/c/*W3Xz/abc", LK, RULE_LINK, "HubSpot", NULL },
	{ "https://info.brand.example/e3t/Ctc/LX+113/cJhC404/VWgDg", LK, RULE_LINK, "HubSpot", NULL },
	{ "https://info.brand.example/e3t/Cto/abc", PX, RULE_PIXEL, "HubSpot", NULL },
	{ "https://info.brand.example/hs/manage-preferences/unsubscribe?d=abc", LK, RULE_FUNCTIONAL, "HubSpot", NULL },
	{ "https://info.brand.example/e3t/about", LK, 0, NULL, NULL },
	{ "https://track.hubspot.com/__ptq.gif?a=1&k=14", PX, RULE_PIXEL, "HubSpot", NULL },
	{ "https://t.sidekickopen45.com/e1t/o/5/f18dQhb0S7kv8cpgQZVcBL", PX, RULE_PIXEL, "HubSpot Sales", NULL },
	{ "https://t.signaux2.com/e1t/c/5/f18dQhb0SmhZ8", LK, RULE_LINK, "HubSpot Sales", NULL },
	{ "https://r.email.shop.example/tr/cl/MbOCZbIGxCTkLiktbixWWKIjaxYtzUcA3dP7y6zInPepfAzxjWYET3kkOLZ9cQgMy2hn", LK, RULE_LINK, "Brevo", NULL },
	{ "https://ac3ccfb1.r.bh.d.sendibt3.com/tr/op/1uB7r8KFNDCiTCGdnpW7fHenOt3XryvYDyJji9Il", PX, RULE_PIXEL, "Brevo", NULL },
	{ "https://r.email.shop.example/tr/un/li/IxiGOh2hhEJ9G5C6iHQqhU17bDaPhOLBJhDbg99GcLQFO", LK, RULE_FUNCTIONAL, "Brevo", NULL },
	{ "https://img.email.shop.example/im/9401995/30552b34b930k652t4130787c61zm828.png?e=CUFmwinJVjnbjXsl", PX, 0, NULL, NULL },
	{ "https://x8k2.mjt.lu/lnk/AMEAAHXz/1/abc/https", LK, RULE_LINK, "Mailjet", NULL },
	{ "https://x8k2.mjt.lu/oo/AMEAAHXz/abc/e.gif", PX, RULE_PIXEL, "Mailjet", NULL },
	{ "https://brand.createsend1.com/t/d-l-abcdef-l-y/", LK, RULE_LINK, "Campaign Monitor", NULL },
	{ "https://brand.cmail20.com/t/d-o-abcdef-l/o.gif", PX, RULE_PIXEL, "Campaign Monitor", NULL },
	{ "https://brand.cmail20.com/t/d-u-abcdef-l/", LK, RULE_FUNCTIONAL, "Campaign Monitor", NULL },
	{ "https://r20.rs6.net/tn.jsp?f=001abc&c=xyz&ch=pq", LK, RULE_LINK, "Constant Contact", NULL },
	{ "https://r20.rs6.net/on.jsp?a=1&o=2", PX, RULE_PIXEL, "Constant Contact", NULL },
	{ "https://visitor.constantcontact.com/do?p=un&m=001&se=abc", LK, RULE_FUNCTIONAL, "Constant Contact", NULL },
	{ "http://click.e.brand.example/?qs=3f5e0f2d1a6b9c8d", LK, RULE_LINK, "Salesforce", NULL },
	{ "http://click.e.brand.example/open.aspx?ffcb10-fe8a1c7d", PX, RULE_PIXEL, "Salesforce", NULL },
	{ "http://click.e.brand.example/unsub_center.aspx?qs=abc", LK, RULE_FUNCTIONAL, "Salesforce", NULL },
	{ "https://go.brand.example/trk?t=1&mkt_tok=NzE5LU9FQy0xNTcAAA", PX, RULE_PIXEL, "Marketo", NULL },
	{ "https://go.brand.example/UnsubscribePage.html?mkt_unsubscribe=1&mkt_tok=Nz", LK, RULE_FUNCTIONAL, "Marketo", NULL },
	{ "https://s1851.t.en25.com/e/FooterImages/FooterImage1?elq=abc&siteid=1851", PX, RULE_PIXEL, "Oracle Eloqua", NULL },
	{ "https://s1851.t.eloqua.com/e/er?s=1851&lid=12&elqTrackId=abc", LK, RULE_LINK, "Oracle Eloqua", NULL },
	{ "https://e.brand.example/pub/cc?_ri_=X0Gzc2X%3DAQ", LK, RULE_LINK, "Oracle Responsys", NULL },
	{ "https://e.brand.example/pub/as?_ri_=X0Gzc2X%3DAQ", PX, RULE_PIXEL, "Oracle Responsys", NULL },
	{ "http://t.brand.example/r/?id=h617791,71ffa3,71ffa8&p1=x", LK, RULE_LINK, "Adobe Campaign", NULL },
	{ "https://go.sparkpostmail1.com/f/a/Xy8kqA~~/AAAAAQA~/RgRn", LK, RULE_LINK, "SparkPost", NULL },
	{ "https://go.sparkpostmail1.com/q/Xy8kqA~~/wAAAAQA~", PX, RULE_PIXEL, "SparkPost", NULL },
	{ "http://links.brand.mkt4321.com/ctt?kn=14&ms=MTk1Mzk5NTES1&r=NDY2MDA0Nzg1MzA4S0&b=0&j=MTI2MDY0MDMxNAS2&mt=1&rt=0", LK, RULE_LINK, "Acoustic", NULL },
	{ "https://newsletter.club.example/click.html?x=a62e&lc=bOfFIo&mc=n&s=aIlKrk3&u=bJgL2&z=AkmCP4q&", LK, RULE_LINK, "GetResponse", NULL },
	{ "https://newsletter.club.example/open.html?x=a62e&m=uGHqyA&mc=n&s=aIlKrk3&u=bJgL2&z=CICeMSB&", PX, RULE_PIXEL, "GetResponse", NULL },
	{ "https://newsletter.club.example/unsubscribe.html?x=a62e&m=uGHqyA&mc=n&s=aIlKrk3&u=bJgL2&z=MAJjuHC&pt=unsubscribe", LK, RULE_FUNCTIONAL, "GetResponse", NULL },
	{ "https://multimedia.getresponse360.pl/sqye-vWZTm/photos/57ej9u2b-8un8-2889-09z3-c0b25d67800u.png", PX, 0, NULL, NULL },
	{ "https://837407.seu2.cleverreach.com/c/18818174/z14hx33x776-cp4ybt", LK, RULE_LINK, "CleverReach", NULL },
	{ "https://stats-eu2.crsend.com/stats/mc_837407_31925449_z14hx33x776-cp4ybt.gif", PX, RULE_PIXEL, "CleverReach", NULL },
	{ "https://837407.seu2.cleverreach.com/rmftlp.php?cid=0&mid=31925449&h=0-b09ec13a504", LK, RULE_FUNCTIONAL, "CleverReach", NULL },
	{ "https://files.crsend.com/121000/837407/images/Newsletter_Grafik_150dpi.png", PX, 0, NULL, NULL },
	{ "https://newsletter.news.example/d/d.gif?o00p07i137j8jo7oy1834c7a47187463gc9cexqiletuqidwlhpp6afap7m42", PX, RULE_PIXEL, "Inxmail", NULL },
	{ "https://newsletter.news.example/d?o0m5dka55mdg0xj4l1669cln40410423i6qkg5z606rrgxcb67tye4pb8e2765&utm_source=newsletter", LK, RULE_LINK, "Inxmail", NULL },
	{ "https://ts-svc.inxserver.com/transparent.gif", PX, 0, NULL, NULL },
	{ "https://newsletter.news.example/resc/1/444f4d3478f/0/transparent.gif", PX, 0, NULL, NULL },
	{ "https://md221387r.emailsys1a.net/o/172/3757628/4365/0/3312581/2257/c3c49bafdd.gif", PX, RULE_PIXEL, "Rapidmail", NULL },
	{ "https://md221387r.emailsys1a.net/c/172/3757628/4365/0/3312581/2257/683645/e0749a28bc.html", LK, RULE_LINK, "Rapidmail", NULL },
	{ "https://md221387r.emailsys1a.net/172/3757628/4365/3312581/2257/31c36d7dc0/unsubscribe.html", LK, RULE_FUNCTIONAL, "Rapidmail", NULL },
	{ "https://c.emailsys1a.net/mailingassets/206f7ed0ade773a322e171e0023904b4e6f1aace.jpg", PX, 0, NULL, NULL },
	{ "http://amxe.net/sgm4hzta-a8j74k3p-q3rh0nw4-0ag7.gif", PX, RULE_PIXEL, "Newsletter2Go", NULL },
	{ "https://amxe.net/vun1ihvn-l3pb5wn5-vmgazjxq-1gp", LK, RULE_LINK, "Newsletter2Go", NULL },
	{ "https://amxe.net/unsubscribe/gjy3hohi-y4dt7tf3-p6v", LK, RULE_FUNCTIONAL, "Newsletter2Go", NULL },
	{ "http://amxe.net/bt2mb3at/e_nbw0fmow/files/Logo_standard_RGB.png", PX, 0, NULL, NULL },
	{ "https://news.charity.example/go/13/5112K3FU-8704V6L5-721AC4CL-ND8YGM.html?newsletter=x", LK, RULE_LINK, "Optimizely", NULL },
	{ "http://news.charity.example/custom/api/org/track/unsubscribe.jsp?bmMailId=5461B7GL-8735L7A6-HZUY6B", LK, RULE_FUNCTIONAL, "Optimizely", NULL },
	{ "https://a1b2c3.emltrk.com/a1b2c3?p&d=1", PX, RULE_PIXEL, "Litmus", NULL },
	{ "https://eoapxl.com/x/y.gif", PX, RULE_PIXEL, "Email on Acid", NULL },
	/* self-hosted */
	{ "https://lists.example.org/campaign/0b4e6e5c-1a2b-4c3d-8e9f-0a1b2c3d4e5f/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d/px.png",
	  PX, RULE_PIXEL, "listmonk", NULL },
	{ "https://lists.example.org/campaign/0b4e6e5c-1a2b-4c3d-8e9f-0a1b2c3d4e5f/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
	  LK, RULE_FUNCTIONAL, "listmonk", NULL },
	{ "https://m.example.org/email/5f1e2d3c4b5a6.gif", PX, RULE_PIXEL, "Mautic", NULL },
	{ "https://m.example.org/r/5f1e2d3c4b5a6e?ct=YTo0OntzOjY6", LK, RULE_LINK, "Mautic", NULL },
	{ "https://m.example.org/email/unsubscribe/5f1e2d3c4b5a6", LK, RULE_FUNCTIONAL, "Mautic", NULL },
	{ "https://news.example.org/lists/ut.php?u=abc123&m=45", PX, RULE_PIXEL, "phpList", NULL },
	{ "https://news.example.org/lists/lt.php?tid=ZZZ", LK, RULE_LINK, "phpList", NULL },
	{ "https://news.example.org/lists/?p=unsubscribe&uid=abc", LK, RULE_FUNCTIONAL, "phpList", NULL },
	{ "https://sendy.example.org/t/763gPWrfEcJY/kfByMNoqdh0Ly", PX, RULE_PIXEL, "Sendy", NULL },
	{ "https://sendy.example.org/l/763gPWrfEcJY/kfByMNoqdh0Ly/cgdo5aA892x", LK, RULE_LINK, "Sendy", NULL },
	{ "https://track.example.org/img/abcd1234/3fa85f64-5717-4562-b3fc-2c963f66afa6", PX, RULE_PIXEL, "Postal", NULL },
	{ "https://track.example.org/abcd12/3fa85f64-5717-4562-b3fc-2c963f66afa6", LK, RULE_LINK, "Postal", NULL },
	{ "https://mt.example.org/links/Hk4k2Rx/SyFb2C/rJe7b3/Bk3f2", LK, RULE_LINK, "Mailtrain", NULL },
	{ "https://www.google-analytics.com/collect?v=1&tid=UA-1234-1&cid=555&t=event&ec=email&ea=open", PX, RULE_PIXEL, "Web analytics", NULL },
	{ "https://www.facebook.com/tr?id=123&ev=PageView&noscript=1", PX, RULE_PIXEL, "Web analytics", NULL },
	{ "https://de.ioam.de/tx.io?st=news&cp=nl&co=x", PX, RULE_PIXEL, "Web analytics", NULL },
	{ "https://www.facebook.com/brand/photos/1.jpg", PX, 0, NULL, NULL },
	/* sales tools */
	{ "https://t.yesware.com/t/abc/def/pixel.gif", PX, RULE_PIXEL, "Yesware", NULL },
	{ "https://track.mixmax.com/api/track/v2/abc", PX, RULE_PIXEL, "Mixmax", NULL },
	{ "https://app.outrch.com/api/mailings/opened/abc.gif", PX, RULE_PIXEL, "Outreach", NULL },
	{ "https://t.salesloftlinks.com/t/abc", LK, RULE_LINK, "Salesloft", NULL },
	{ "https://mailfoogae.appspot.com/t?sender=abc&type=zerocontent&guid=x", PX, RULE_PIXEL, "Streak", NULL },
	{ "https://app.mailbutler.io/tracking/hit/abc/def/", PX, RULE_PIXEL, "Mailbutler", NULL },
	{ "https://bl-1.com/pixel/abc.png", PX, RULE_PIXEL, "Bananatag", NULL },
	{ "https://r.superhuman.com/Xyz123.gif", PX, RULE_PIXEL, "Superhuman", NULL },
	{ "https://gmtrack.net/o/abc.gif", PX, RULE_PIXEL, "GMass", NULL },
	{ "https://www.gmass.co/blog/gmail-smtp/", LK, 0, NULL, NULL },
	/* security wrappers: exempt */
	{ "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fx.example%2F&data=05", LK, RULE_EXEMPT, "Microsoft", NULL },
	{ "https://urldefense.proofpoint.com/v2/url?u=https-3A__x.example_&d=DwMF", LK, RULE_EXEMPT, "Proofpoint", NULL },
	{ "https://urldefense.com/v3/__https://x.example/__;!!abc$", LK, RULE_EXEMPT, "Proofpoint", NULL },
	{ "https://protect-eu.mimecast.com/s/AbCdEf?domain=x.example", LK, RULE_EXEMPT, "Mimecast", NULL },
	{ "https://linkprotect.cudasvc.com/url?a=https%3a%2f%2fx.example&c=E,1", LK, RULE_EXEMPT, "Barracuda", NULL },
	/* ordinary content: no rule */
	{ "https://www.example.com/images/logo.png", PX, 0, NULL, NULL },
	{ "https://www.example.com/r/?id=42", LK, 0, NULL, NULL },
	{ "https://github.com/owner/repo/t/abc", PX, 0, NULL, NULL },
	{ "https://www.example.com/campaign/summer/px.png", PX, 0, NULL, NULL },
	{ "cid:logo@example", PX, 0, NULL, NULL },
	{ "data:image/gif;base64,R0lGODlhAQABAAAAACw=", PX, 0, NULL, NULL },
};

START_TEST(vendor_table)
{
	const struct vcase *c = &vcases[_i];
	const struct rule *r = rules_match_str(R, c->url, strlen(c->url), c->mask);
	struct buf out = BUF_INIT;

	if (c->kind == 0) {
		ck_assert_msg(r == NULL, "%s matched %s line %d", c->url, r ? rules_vendor(r) : "",
			      r ? rules_line(r) : 0);
		return;
	}
	ck_assert_msg(r != NULL, "no rule for %s", c->url);
	ck_assert_msg(rules_kind(r) == c->kind, "%s: kind %s (%s line %d), want %s", c->url,
		      rules_kind_name(rules_kind(r)), rules_vendor(r), rules_line(r),
		      rules_kind_name(c->kind));
	ck_assert_msg(strncmp(rules_vendor(r), c->vendor, strlen(c->vendor)) == 0,
		      "%s: vendor %s, want %s", c->url, rules_vendor(r), c->vendor);
	if (c->unwrapped) {
		int rc = rules_unwrap(r, c->url, strlen(c->url), &out);

		ck_assert_msg(rc == RULES_OK, "%s: unwrap rc %d (line %d)", c->url, rc, rules_line(r));
		ck_assert_str_eq(out.data, c->unwrapped);
		ck_assert(url_is_valid_absolute(out.data, out.len));
	}
	buf_free(&out);
}
END_TEST

static int
unwrap_str(const char *url, struct buf *out)
{
	const struct rule *r = rules_match_str(R, url, strlen(url), RULE_LINK);

	if (r == NULL)
		return 99;
	return rules_unwrap(r, url, strlen(url), out);
}

START_TEST(unwrap_failures)
{
	struct buf out = BUF_INIT;

	/* missing parameter */
	ck_assert_int_eq(unwrap_str("https://mailtrack.io/trace/link/2b7a9c?userId=1", &out), RULES_E_MISSING);
	ck_assert_uint_eq(out.len, 0);
	/* empty parameter */
	ck_assert_int_eq(unwrap_str("https://mailtrack.io/trace/link/2b7a9c?url=&userId=1", &out), RULES_E_MISSING);
	/* invalid base64 (a '*' in the token; wrong padding) */
	ck_assert_int_eq(unwrap_str("https://mandrillapp.com/track/click/1/x?p=eyJwI*joie", &out), RULES_E_DECODE);
	ck_assert_int_eq(unwrap_str("https://mandrillapp.com/track/click/1/x?p=eyJwIjo=", &out), RULES_E_DECODE);
	ck_assert_uint_eq(out.len, 0);
	/* valid base64 of something that is not JSON */
	ck_assert_int_eq(unwrap_str("https://mandrillapp.com/track/click/1/x?p=aGVsbG8", &out), RULES_E_DECODE);
	/* JSON without the field */
	ck_assert_int_eq(unwrap_str("https://e.customeriomail.com/e/c/eyJhIjoiYiJ9/x", &out), RULES_E_MISSING);
	/* a decoded value that is not an http(s) URL */
	ck_assert_int_eq(unwrap_str("https://mailtrack.io/trace/link/a?url=javascript%3Aalert(1)", &out), RULES_E_NOTURL);
	ck_assert_int_eq(unwrap_str("https://mailtrack.io/trace/link/a?url=https%3A%2F%2Fa%20b.example%2F", &out), RULES_E_NOTURL);
	ck_assert_int_eq(unwrap_str("https://mailtrack.io/trace/link/a?url=https%3A%2F%2Fa.example%2F%0Ax", &out), RULES_E_NOTURL);
	ck_assert_int_eq(unwrap_str("https://mailtrack.io/trace/link/a?url=https%3A%2F%2Fa.example%2F%22%3E%3Cscript%3E", &out), RULES_OK);
	ck_assert_str_eq(out.data, "https://a.example/%22%3E%3Cscript%3E");
	/* invalid percent escape in the SES segment */
	ck_assert_int_eq(unwrap_str("https://x.r.us-east-1.awstrack.me/L0/https:%2F%2Fa.example%2G/1/0100/x", &out), RULES_E_DECODE);
	/* a rule without a recipe */
	ck_assert_int_eq(unwrap_str("https://pointer.us9.list-manage.com/track/click?u=1&id=2&e=3", &out), RULES_E_NORECIPE);
	buf_free(&out);
}
END_TEST

START_TEST(ses_segment_not_greedy)
{
	struct buf out = BUF_INIT;
	const char *u = "https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Fdocs.example.com%2Fv1%252Fv2%2Fpage.html%23top/1/010001abcdef0123-11112222-3333-4444-5555-666677778888-000000/AbC=456";

	ck_assert_int_eq(unwrap_str(u, &out), RULES_OK);
	/* %252F stays an encoded slash in the destination; the trailing
	 * /1/<message id>/<hash> is not part of it. */
	ck_assert_str_eq(out.data, "https://docs.example.com/v1%2Fv2/page.html#top");
	buf_free(&out);
}
END_TEST

/* A decoded destination is written as a browser sends it, wherever the
 * byte stands (the scan takes 16 bytes at a time): space " < > ` become
 * %20 %22 %3C %3E %60, a control or DEL fails it, bytes >= 0x80 and the
 * rest stay. Each byte at every offset 0..40 of the path. */
START_TEST(unwrap_browser_encoding)
{
	static const unsigned char bytes[] = { ' ', '"', '<', '>', '`', 0x01, 0x1f, 0x7f, 0x80,
	    0xc3, '=', '?', 0x3c | 2, 0x3d, '\'', '&' };
	struct buf out = BUF_INIT;
	size_t b, off, i;

	for (b = 0; b < sizeof bytes; b++)
		for (off = 0; off <= 40; off++) {
			char url[256], want[256];
			size_t n = 0, w = 0;
			unsigned char c = bytes[b];
			int rc;

			n += (size_t)snprintf(url, sizeof url,
			    "https://mailtrack.io/trace/link/a?url=https%%3A%%2F%%2Fd.example%%2F");
			w += (size_t)snprintf(want, sizeof want, "https://d.example/");
			for (i = 0; i < off; i++) {
				url[n++] = 'p';
				want[w++] = 'p';
			}
			n += (size_t)snprintf(url + n, sizeof url - n, "%%%02X", c);
			if (c == ' ' || c == '"' || c == '<' || c == '>' || c == '`')
				w += (size_t)snprintf(want + w, sizeof want - w, "%%%02X", c);
			else
				want[w++] = (char)c;
			n += (size_t)snprintf(url + n, sizeof url - n, "x");
			want[w++] = 'x';
			want[w] = '\0';
			rc = unwrap_str(url, &out);
			if (c < 0x20 || c == 0x7f) {
				ck_assert_msg(rc == RULES_E_NOTURL, "%s: %d", url, rc);
				continue;
			}
			ck_assert_msg(rc == RULES_OK, "%s: %d", url, rc);
			ck_assert_str_eq(out.data, want);
		}
	buf_free(&out);
}
END_TEST

/* rules_unwrap_scratch() gives rules_unwrap()'s answer whatever the
 * scratch held before, and reuses its buffers once they are big enough. */
START_TEST(unwrap_with_scratch)
{
	static const char *extra[] = {
		"https://mailtrack.io/trace/link/a?url=javascript%3Aalert(1)",
		"https://mandrillapp.com/track/click/1/x?p=eyJwIjo=",
		"https://e.customeriomail.com/e/c/eyJhIjoiYiJ9/x",
		"https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Fa.exa\tmple%2F/1/x",
	};
	struct rules_scratch sc = RULES_SCRATCH_INIT;
	struct buf want = BUF_INIT, got = BUF_INIT;
	const struct rule *r;
	const char *url;
	char *a, *b;
	size_t i, k, n = sizeof vcases / sizeof vcases[0];
	int round, rw, rg;

	for (round = 0; round < 2; round++)
		for (k = 0; k < n + sizeof extra / sizeof extra[0]; k++) {
			/* second round backwards: other leftovers in the scratch */
			i = round ? n + sizeof extra / sizeof extra[0] - 1 - k : k;
			url = i < n ? vcases[i].url : extra[i - n];
			r = rules_match_str(R, url, strlen(url), RULE_ANY);

			rw = rules_unwrap(r, url, strlen(url), &want);
			rg = rules_unwrap_scratch(r, url, strlen(url), &got, &sc);
			ck_assert_int_eq(rg, rw);
			ck_assert_uint_eq(got.len, want.len);
			ck_assert(memcmp(got.data, want.data, want.len) == 0);
		}
	url = vcases[0].url;
	ck_assert_int_eq(rules_unwrap_scratch(rules_match_str(R, url, strlen(url), RULE_LINK), url,
					      strlen(url), &got, &sc), RULES_OK);
	a = sc.a.data;
	b = sc.b.data;
	ck_assert_int_eq(rules_unwrap_scratch(rules_match_str(R, url, strlen(url), RULE_LINK), url,
					      strlen(url), &got, &sc), RULES_OK);
	ck_assert_ptr_eq(sc.a.data, a);
	ck_assert_ptr_eq(sc.b.data, b);
	ck_assert_str_eq(got.data, vcases[0].unwrapped);
	rules_scratch_free(&sc);
	rules_scratch_free(&sc);	/* freed scratch is empty and reusable */
	buf_free(&want);
	buf_free(&got);
}
END_TEST

/* rules_unwrap_url() of a URL's parse answers what rules_unwrap_scratch()
 * of the URL answers, and *DEST is the parse url_parse_valid_absolute()
 * gives of the result; fed back in (a wrapper inside a wrapper) it answers
 * as the result's bytes do. Tabs, newlines and blanks around the URL
 * (parsed from a cleaned copy) included. */
START_TEST(unwrap_url_same_answers)
{
	static const char *extra[] = {
		"https://mailtrack.io/trace/link/a?url=javascript%3Aalert(1)",
		"https://mandrillapp.com/track/click/1/x?p=eyJwIjo=",
		"https://e.customeriomail.com/e/c/eyJhIjoiYiJ9/x",
		"https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Fa.exa\tmple%2F/1/x",
		"https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Fa.example%2F\n/1/x",
		" \t https://mailtrack.io/trace/link/a?url=https%3A%2F%2Fa.example%2Fb\n ",
		"https://mailtrack.io/trace/link/a?u\trl=https%3A%2F%2Fa.example%2Fb",
		"HTTPS://MAILTRACK.IO/trace/link/a?url=https%3A%2F%2Fa.example%2Fb#frag",
		"https://mailtrack.io/trace/link/a?url=https%3A%2F%2Fmailtrack.io%2Ftrace%2Flink%2Fb%3Furl%3Dhttps%253A%252F%252Fz.example%252F",
	};
	struct rules_scratch sc = RULES_SCRATCH_INIT;
	struct buf want = BUF_INIT, got = BUF_INIT, again = BUF_INIT, want2 = BUF_INIT;
	size_t i, n = sizeof vcases / sizeof vcases[0];

	for (i = 0; i < n + sizeof extra / sizeof extra[0]; i++) {
		const char *url = i < n ? vcases[i].url : extra[i - n];
		const struct rule *r = rules_match_str(R, url, strlen(url), RULE_ANY), *r2;
		struct url u, dest, check, dest2;
		int rw, rg;

		if (url_parse(url, strlen(url), &u) != 0)
			continue;
		rw = rules_unwrap_scratch(r, url, strlen(url), &want, &sc);
		rg = rules_unwrap_url(r, &u, &got, &sc, &dest);
		ck_assert_msg(rg == rw, "%s: %d, want %d", url, rg, rw);
		ck_assert_uint_eq(got.len, want.len);
		ck_assert(memcmp(got.data, want.data, want.len) == 0);
		ck_assert_int_eq(rules_unwrap_url(r, &u, &again, &sc, NULL), rw);
		if (rg != RULES_OK)
			continue;
		ck_assert_int_eq(url_parse_valid_absolute(got.data, got.len, &check), 1);
		ck_assert(memcmp(&check, &dest, sizeof check) == 0);
		r2 = rules_match(R, &dest, RULE_LINK);
		if (r2 == NULL)
			continue;
		rw = rules_unwrap_scratch(r2, got.data, got.len, &want2, &sc);
		ck_assert_int_eq(rules_unwrap_url(r2, &dest, &again, &sc, &dest2), rw);
		ck_assert_uint_eq(again.len, want2.len);
		ck_assert(memcmp(again.data, want2.data, want2.len) == 0);
	}
	/* no rule, no recipe */
	{
		struct url u;
		const char *url = "https://example.com/?url=https%3A%2F%2Fa.example%2F";

		ck_assert_int_eq(url_parse(url, strlen(url), &u), 0);
		ck_assert_int_eq(rules_unwrap_url(NULL, &u, &got, &sc, NULL), RULES_E_NORECIPE);
	}
	rules_scratch_free(&sc);
	buf_free(&want);
	buf_free(&got);
	buf_free(&again);
	buf_free(&want2);
}
END_TEST

/* unwrap=segment:N against a reference: segments follow each '/' or '\\'
 * of the path, only the first 64 count (from the end too), an empty one
 * is missing. Random paths of 0 to 80 segments. */
static int
ref_segment(const char *path, int n, char *out)
{
	const char *segs[64];
	size_t lens[64];
	int count = 0, idx;
	const char *p = path, *end = path + strlen(path);

	if (*p != '/' && *p != '\\')
		return -1;
	while (p < end && count < 64) {
		const char *q = ++p;

		while (q < end && *q != '/' && *q != '\\')
			q++;
		segs[count] = p;
		lens[count++] = (size_t)(q - p);
		p = q;
	}
	idx = n > 0 ? n - 1 : count + n;
	if (idx < 0 || idx >= count || lens[idx] == 0)
		return -1;
	memcpy(out, segs[idx], lens[idx]);
	out[lens[idx]] = '\0';
	return 0;
}

START_TEST(segment_targets)
{
	static const int ns[] = { 1, 2, 3, 7, 63, 64, -1, -2, -3, -63, -64 };
	char conf[2048];
	size_t off = (size_t)snprintf(conf, sizeof conf, "vendor Seg\n"), k;
	struct cfg_error *errs = NULL;
	struct rules *rs;
	struct buf out = BUF_INIT;
	unsigned seed = 99;
	int i;

	for (k = 0; k < sizeof ns / sizeof ns[0]; k++)
		off += (size_t)snprintf(conf + off, sizeof conf - off,
		    "link s%zu.example unwrap=segment:%d prefix=https://\n", k, ns[k]);
	rs = rules_load_string(conf, off, "seg.conf", &errs);
	ck_assert_msg(rs != NULL, "%s", errs ? errs->text : "");
	for (i = 0; i < 3000; i++) {
		char url[2048], path[1500], want[1500], expect[1600];
		size_t pl = 0, nseg;
		const struct rule *r;
		int rc, wr;

		seed = seed * 1103515245u + 12345u;
		nseg = (seed >> 8) % 81;
		for (k = 0; k < nseg; k++) {
			size_t len, j;

			seed = seed * 1103515245u + 12345u;
			path[pl++] = (seed >> 20) % 9 == 0 ? '\\' : '/';
			len = (seed >> 8) % 4 == 0 ? 0 : (seed >> 12) % 12;
			for (j = 0; j < len; j++)
				path[pl++] = (char)('a' + (seed >> (j % 16)) % 26);
		}
		path[pl] = '\0';
		k = (seed >> 24) % (sizeof ns / sizeof ns[0]);
		snprintf(url, sizeof url, "https://s%zu.example%s", k, path);
		r = rules_match_str(rs, url, strlen(url), RULE_LINK);
		ck_assert_ptr_nonnull(r);
		rc = rules_unwrap(r, url, strlen(url), &out);
		wr = ref_segment(path, ns[k], want);
		if (pl == 0)
			wr = -1;
		if (wr < 0) {
			ck_assert_msg(rc == RULES_E_MISSING, "%s segment %d: %d", url, ns[k], rc);
			continue;
		}
		snprintf(expect, sizeof expect, "https://%s", want);
		ck_assert_msg(rc == RULES_OK && strcmp(out.data, expect) == 0,
		    "%s segment %d: %d '%s', want '%s'", url, ns[k], rc, out.data ? out.data : "", expect);
	}
	buf_free(&out);
	rules_free(rs);
	cfg_errors_free(errs);
}
END_TEST

START_TEST(nested_wrappers)
{
	struct buf out = BUF_INIT;
	int levels = -1;
	/* SES wrapping a mailtrack link wrapping the destination */
	const char *u = "https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Fmailtrack.io%2Ftrace%2Flink%2Fabc%3Furl=https%253A%252F%252Fexample.com%252Fdoc%26userId=1/1/0100abcd/x=";
	/* SES wrapping a Safe Links URL: stop there, the wrapper is exempt */
	const char *v = "https://abc.r.us-east-1.awstrack.me/L0/https:%2F%2Fnam02.safelinks.protection.outlook.com%2F%3Furl=https%253A%252F%252Fx.example%252F%26data=1/1/0100abcd/x=";

	ck_assert_int_eq(rules_unwrap_nested(R, u, strlen(u), 4, &out, &levels), RULES_OK);
	ck_assert_int_eq(levels, 2);
	ck_assert_str_eq(out.data, "https://example.com/doc");
	ck_assert_int_eq(rules_unwrap_nested(R, v, strlen(v), 4, &out, &levels), RULES_OK);
	ck_assert_int_eq(levels, 1);
	ck_assert_str_eq(out.data, "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fx.example%2F&data=1");
	/* depth limit */
	ck_assert_int_eq(rules_unwrap_nested(R, u, strlen(u), 1, &out, &levels), RULES_OK);
	ck_assert_int_eq(levels, 1);
	ck_assert(strncmp(out.data, "https://mailtrack.io/", 21) == 0);
	/* nothing to unwrap */
	ck_assert_int_eq(rules_unwrap_nested(R, "https://example.com/", 20, 4, &out, &levels), RULES_E_NORECIPE);
	ck_assert_int_eq(levels, 0);
	buf_free(&out);
}
END_TEST

START_TEST(listmonk_anonymize)
{
	struct buf out = BUF_INIT;
	const char *link = "https://lists.example.org/link/0b4e6e5c-1a2b-4c3d-8e9f-0a1b2c3d4e5f/6f7e8d9c-0b1a-4c2d-9e8f-7a6b5c4d3e2f/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
	const char *px = "https://lists.example.org/campaign/6f7e8d9c-0b1a-4c2d-9e8f-7a6b5c4d3e2f/a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d/px.png";
	const struct rule *r;

	r = rules_match_str(R, link, strlen(link), RULE_LINK);
	ck_assert_ptr_nonnull(r);
	ck_assert(rules_has_anonymize(r));
	ck_assert(!rules_has_unwrap(r));
	ck_assert_int_eq(rules_anonymize(r, link, strlen(link), &out), RULES_OK);
	ck_assert_str_eq(out.data, "https://lists.example.org/link/0b4e6e5c-1a2b-4c3d-8e9f-0a1b2c3d4e5f/6f7e8d9c-0b1a-4c2d-9e8f-7a6b5c4d3e2f/00000000-0000-0000-0000-000000000000");
	r = rules_match_str(R, px, strlen(px), RULE_PIXEL);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(rules_anonymize(r, px, strlen(px), &out), RULES_OK);
	ck_assert_str_eq(out.data, "https://lists.example.org/campaign/6f7e8d9c-0b1a-4c2d-9e8f-7a6b5c4d3e2f/00000000-0000-0000-0000-000000000000/px.png");
	buf_free(&out);
}
END_TEST

START_TEST(anonymize_recipes)
{
	static const char conf[] =
		"vendor Test\n"
		"link t.example /c/* anonymize=segment:3 anonymize=param:e token=anon\n"
		"link u.example /c/* anonymize=segment:-1 anonymize=param:e\n";
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "t.conf", &errs);
	struct buf out = BUF_INIT;
	const struct rule *r;
	const char *a = "https://t.example/c/123/AbC-99?x=1&e=f00ba4&y=2#f";
	const char *b = "https://u.example/c/123/AbC-99?x=1&e=f0-0b";
	const char *c = "https://u.example/c/?x=1";

	ck_assert_ptr_nonnull(rs);
	r = rules_match_str(rs, a, strlen(a), RULE_LINK);
	ck_assert_int_eq(rules_anonymize(r, a, strlen(a), &out), RULES_OK);
	ck_assert_str_eq(out.data, "https://t.example/c/123/anon?x=1&e=anon&y=2#f");
	r = rules_match_str(rs, b, strlen(b), RULE_LINK);
	ck_assert_int_eq(rules_anonymize(r, b, strlen(b), &out), RULES_OK);
	ck_assert_str_eq(out.data, "https://u.example/c/123/000-00?x=1&e=00-00");
	r = rules_match_str(rs, c, strlen(c), RULE_LINK);
	ck_assert_int_eq(rules_anonymize(r, c, strlen(c), &out), RULES_E_MISSING);
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
	rules_free(rs);
	cfg_errors_free(errs);
}
END_TEST

START_TEST(personal_params)
{
	static const char *yes[] = {
		"mc_eid", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsCtaTracking",
		"hsctatracking", "mkt_tok", "__s", "ml_subscriber", "ml_subscriber_hash", "vero_id",
		"vero_conv", "oly_anon_id", "oly_enc_id", "sfmc_id", "sfmc_sub", "elqTrackId",
		"elq", "elqTrack", "_kx",
	};
	static const char *no[] = { "mc_cid", "utm_source", "id", "s", "q", "page", "el", "sfmc" };
	struct buf out = BUF_INIT;
	struct rules_strip_ctx ctx = { NULL, NULL, 0 };
	const char *u = "https://shop.example/p?id=7&mc_eid=abc&utm_source=news&_hsenc=p2&elqTrackId=9#x";
	size_t i;
	int removed;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(rules_is_personal_param(R, yes[i], strlen(yes[i])), "%s", yes[i]);
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_msg(!rules_is_personal_param(R, no[i], strlen(no[i])), "%s", no[i]);
	ck_assert(rules_is_campaign_param(R, "utm_campaign", 12));
	ck_assert(!rules_is_campaign_param(R, "mc_cid", 6));

	ctx.rules = R;
	ck_assert_int_eq(url_strip_params(u, strlen(u), rules_strip_pred, &ctx, &out, &removed), 0);
	ck_assert_str_eq(out.data, "https://shop.example/p?id=7&utm_source=news#x");
	ck_assert_int_eq(removed, 3);
	buf_reset(&out);
	ctx.strip_campaign = 1;
	ck_assert_int_eq(url_strip_params(u, strlen(u), rules_strip_pred, &ctx, &out, &removed), 0);
	ck_assert_str_eq(out.data, "https://shop.example/p?id=7#x");
	buf_free(&out);
}
END_TEST

/* Name lists answer by first byte, length and case-folded compare: every
 * entry must stay reachable whatever the order of the lines. */
START_TEST(name_lists)
{
	static const char conf[] =
		"personal zeta Foo_* b bar baz* _x\n"
		"personal aa* Zed\n"
		"campaign cmp_*\n"
		"vendor V\n"
		"link * /s strip=cc,dd*,Q\n";
	static const char *yes[] = {
		"zeta", "ZETA", "foo_", "FOO_bar", "b", "B", "bar", "baz", "bazzz", "_x", "_X",
		"aa", "aab", "zed", "ZeD",
	};
	static const char *no[] = {
		"", "zet", "zetaa", "foo", "fo_", "ba", "barr", "_", "_xx", "a", "ze", "zedd",
		"cmp_x", "x", "\x80",
	};
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "n.conf", &errs);
	const struct rule *r;
	size_t i;

	ck_assert_ptr_nonnull(rs);
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ck_assert_msg(rules_is_personal_param(rs, yes[i], strlen(yes[i])), "%s", yes[i]);
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		ck_assert_msg(!rules_is_personal_param(rs, no[i], strlen(no[i])), "%s", no[i]);
	/* lengths, not NUL bytes, end a name */
	ck_assert(!rules_is_personal_param(rs, "zeta\0", 5));
	ck_assert(!rules_is_personal_param(rs, "fo\0_x", 5));
	ck_assert(rules_is_personal_param(rs, "foo_\0", 5));
	ck_assert(rules_is_campaign_param(rs, "CMP_a", 5));
	ck_assert(rules_is_campaign_param(rs, "cmp_", 4));
	ck_assert(rules_is_campaign_param(rs, "utm_x", 5));	/* built in, kept */
	ck_assert(!rules_is_campaign_param(rs, "cmp", 3));
	r = rules_match_str(rs, "https://a.example/s", 19, RULE_LINK);
	ck_assert_ptr_nonnull(r);
	ck_assert(rules_rule_strips_param(r, "cc", 2));
	ck_assert(rules_rule_strips_param(r, "DDx", 3));
	ck_assert(rules_rule_strips_param(r, "q", 1));
	ck_assert(!rules_rule_strips_param(r, "c", 1));
	ck_assert(!rules_rule_strips_param(r, "ccc", 3));
	ck_assert(!rules_rule_strips_param(NULL, "cc", 2));
	rules_free(rs);
}
END_TEST

START_TEST(bad_file_reports_every_error)
{
	static const char conf[] =
		"# comment\n"
		"pixel a.example\n"				/* 2: before vendor */
		"vendor V\n"
		"frobnicate a.example\n"			/* 4: unknown keyword */
		"link\n"					/* 5: missing host */
		"link bad_host!.example\n"			/* 6: host */
		"link a.example /x unwrap=segment:0\n"		/* 7: segment 0 */
		"link a.example /x decode=percent\n"		/* 8: decode without unwrap */
		"link a.example /x unwrap=param:u decode=rot13\n" /* 9: decoder */
		"link a.example re:(a+)+$\n"			/* 10: nested quantifier */
		"link a.example re:([a-z]\n"			/* 11: regex syntax */
		"pixel a.example unwrap=param:u\n"		/* 12: unwrap on pixel */
		"link a.example anonymize=capture:1\n"		/* 13: capture without re */
		"link a.example /ok mystery=1\n"		/* 14: unknown option */
		"personal ok bad=name\n"			/* 15: bad name */
		"link a.example /ok\n";				/* 16: fine */
	struct cfg_error *errs = NULL, *e;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "bad.conf", &errs);
	static const char *want[] = {
		"bad.conf:2:", "bad.conf:4:", "bad.conf:5:", "bad.conf:6:", "bad.conf:7:",
		"bad.conf:8:", "bad.conf:9:", "bad.conf:10:", "bad.conf:11:", "bad.conf:12:",
		"bad.conf:13:", "bad.conf:14:", "bad.conf:15:",
	};
	size_t i = 0;

	ck_assert_ptr_null(rs);
	for (e = errs; e; e = e->next, i++) {
		ck_assert_msg(i < sizeof want / sizeof want[0], "extra error %s", e->text);
		ck_assert_msg(strncmp(e->text, want[i], strlen(want[i])) == 0, "%s, want %s", e->text,
			      want[i]);
	}
	ck_assert_uint_eq(i, sizeof want / sizeof want[0]);
	cfg_errors_free(errs);

	errs = NULL;
	ck_assert_ptr_null(rules_load("/nonexistent/trackers.conf", &errs));
	ck_assert_ptr_nonnull(errs);
	ck_assert(strncmp(errs->text, "/nonexistent/trackers.conf:0:", 29) == 0);
	cfg_errors_free(errs);
}
END_TEST

START_TEST(pathological_regex_rejected)
{
	static const char *bad[] = {
		"(a+)+$", "(a*)*b", "(a|aa)+", "(x+x+)+y", "([a-z]+)*1", "(a|b)*c", "(?:a{2,})+",
		"(a)\\1", "(?R)?", "((ab)+c?)+d", "(?:(?:a+))*", "(a?)+b", "(?-1)x", "(?+2)",
	};
	static const char *good[] = {
		"^/c/[a-z]+/[0-9]{3}$", "(abc)+", "(ab|cd)", "^/(x|y)/[a-z]*", "[(+*]+", "a{3}",
		"(a{3})+", "\\(a+\\)+", "(?-i:x)+", "(?i)^/a",
	};
	char line[256];
	struct cfg_error *errs;
	struct rules *rs;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errs = NULL;
		snprintf(line, sizeof line, "vendor V\nlink a.example re:%s\n", bad[i]);
		rs = rules_load_string(line, strlen(line), "re.conf", &errs);
		ck_assert_msg(rs == NULL, "accepted %s", bad[i]);
		ck_assert(strstr(errs->text, "re.conf:2:") != NULL);
		cfg_errors_free(errs);
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		errs = NULL;
		snprintf(line, sizeof line, "vendor V\nlink a.example re:%s\n", good[i]);
		rs = rules_load_string(line, strlen(line), "re.conf", &errs);
		ck_assert_msg(rs != NULL, "rejected %s: %s", good[i], errs ? errs->text : "");
		rules_free(rs);
	}
}
END_TEST

START_TEST(host_matching_and_own_domains)
{
	static const char conf[] =
		"vendor V\n"
		"pixel exact.example /p\n"
		"link *.sub.example\n"
		"link * /anyhost/*\n";
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "h.conf", &errs);

	ck_assert_ptr_nonnull(rs);
	ck_assert_ptr_nonnull(rules_match_str(rs, "https://EXACT.example./p", 24, RULE_PIXEL));
	ck_assert_ptr_null(rules_match_str(rs, "https://www.exact.example/p", 27, RULE_PIXEL));
	ck_assert_ptr_null(rules_match_str(rs, "https://exact.example/p", 23, RULE_LINK));
	ck_assert_ptr_nonnull(rules_match_str(rs, "https://a.b.sub.example/x", 25, RULE_LINK));
	ck_assert_ptr_null(rules_match_str(rs, "https://sub.example/x", 21, RULE_LINK));
	ck_assert_ptr_null(rules_match_str(rs, "https://xsub.example/x", 22, RULE_LINK));
	ck_assert_ptr_nonnull(rules_match_str(rs, "//cdn.example/anyhost/1", 23, RULE_LINK));
	ck_assert_ptr_null(rules_match_str(rs, "ftp://a.sub.example/x", 21, RULE_LINK));

	ck_assert_int_eq(rules_add_own_domain(rs, "trk.our.example"), 0);
	ck_assert_int_eq(rules_add_own_domain(rs, "bad host"), -1);
	ck_assert_int_eq(rules_add_own_domain(rs, "*.x.example"), -1);
	ck_assert_int_eq(rules_kind(rules_match_str(rs, "https://trk.our.example/o.gif", 29, RULE_PIXEL)), RULE_PIXEL);
	ck_assert_int_eq(rules_kind(rules_match_str(rs, "https://a.trk.our.example/c", 27, RULE_LINK)), RULE_LINK);
	ck_assert_str_eq(rules_vendor(rules_match_str(rs, "https://a.trk.our.example/c", 27, RULE_LINK)), "own");
	ck_assert_ptr_null(rules_match_str(rs, "https://our.example/c", 21, RULE_LINK));
	rules_free(rs);
}
END_TEST

/* Line of the rule matching URL with MASK in RS, 0 for none. */
static int
line_of(const struct rules *rs, const char *url, unsigned mask)
{
	const struct rule *r = rules_match_str(rs, url, strlen(url), mask);

	return r ? rules_line(r) : 0;
}

/* "*" rules are only tried when the URL's path can match them (the byte
 * after the leading '/', the last byte, the length, the kind): a wrong
 * candidate set would lose a match or break the file order here. */
START_TEST(any_host_dispatch)
{
	static const char conf[] =
		"vendor V\n"
		"pixel * re:^/C?L0/x\n"			/* 2: first byte C or L */
		"link * re:^/(?i)cd\n"			/* 3: caseless first byte */
		"link * /*ut.php\n"			/* 4: glob with a leading '*' */
		"link * re:/unsub\n"			/* 5: unanchored: no prefix */
		"link * param=only\n"			/* 6: no path at all */
		"functional * re:^/.?k9\n"		/* 7: any first byte */
		"link * /k9*\n"				/* 8: after 7 in file order */
		"link * re:^/\\d{3}\n"			/* 9: at least 4 bytes */
		"link * /a*b*c\n"			/* 10 */
		"link * /exact.html\n"			/* 11: fixed last byte */
		"link * /\n"				/* 12: the root only */
		"pixel * re:^/(?=q)q1\n"		/* 13: lookahead first */
		"link h.example /zz\n"			/* 14: host rules first */
		"pixel * /zz\n"				/* 15 */
		"link * re:(?i)^/ab\n"			/* 16: options before '^' */
		"link * re:^/{2}w\n"			/* 17: the '/' is repeated */
		"link * re:^/vv|yy\n";			/* 18: '^' anchors one side */
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "d.conf", &errs);

	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(line_of(rs, "https://a.example/CL0/x", RULE_ANY), 2);
	ck_assert_int_eq(line_of(rs, "https://a.example/L0/x", RULE_ANY), 2);
	ck_assert_int_eq(line_of(rs, "https://a.example/XL0/x", RULE_ANY), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/L0/x", RULE_LINK), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/cd", RULE_ANY), 3);
	ck_assert_int_eq(line_of(rs, "https://a.example/Cd/", RULE_ANY), 3);
	ck_assert_int_eq(line_of(rs, "https://a.example/aut.php", RULE_ANY), 4);
	ck_assert_int_eq(line_of(rs, "https://a.example/ut.php", RULE_ANY), 4);
	ck_assert_int_eq(line_of(rs, "https://a.example/x/y/ut.php", RULE_ANY), 4);
	ck_assert_int_eq(line_of(rs, "https://a.example/ut.phpx", RULE_ANY), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/a/b/unsub/c", RULE_ANY), 5);
	ck_assert_int_eq(line_of(rs, "https://a.example/?only", RULE_ANY), 6);
	ck_assert_int_eq(line_of(rs, "https://a.example?only", RULE_ANY), 6);
	ck_assert_int_eq(line_of(rs, "https://a.example/zq/?only", RULE_ANY), 6);
	ck_assert_int_eq(line_of(rs, "https://a.example/k9", RULE_ANY), 7);
	ck_assert_int_eq(line_of(rs, "https://a.example/xk9", RULE_ANY), 7);
	ck_assert_int_eq(line_of(rs, "https://a.example/k9", RULE_LINK), 8);
	ck_assert_int_eq(line_of(rs, "https://a.example/12", RULE_ANY), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/123", RULE_ANY), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/abc", RULE_ANY), 10);
	ck_assert_int_eq(line_of(rs, "https://a.example/axxbxxc", RULE_ANY), 10);
	ck_assert_int_eq(line_of(rs, "https://a.example/ab", RULE_ANY), 16);
	ck_assert_int_eq(line_of(rs, "https://a.example/exact.html", RULE_ANY), 11);
	ck_assert_int_eq(line_of(rs, "https://a.example/exact.htm", RULE_ANY), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/exact.htmlx", RULE_ANY), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/", RULE_ANY), 12);
	ck_assert_int_eq(line_of(rs, "https://a.example", RULE_ANY), 12);
	ck_assert_int_eq(line_of(rs, "https://a.example/q1", RULE_ANY), 13);
	ck_assert_int_eq(line_of(rs, "https://h.example/zz", RULE_ANY), 14);
	ck_assert_int_eq(line_of(rs, "https://h.example/zz", RULE_PIXEL), 15);
	ck_assert_int_eq(line_of(rs, "https://a.example/zz", RULE_ANY), 15);
	ck_assert_int_eq(line_of(rs, "https://a.example/AB/x", RULE_ANY), 16);
	ck_assert_int_eq(line_of(rs, "https://a.example//w", RULE_ANY), 17);
	ck_assert_int_eq(line_of(rs, "https://a.example/vv", RULE_ANY), 18);
	ck_assert_int_eq(line_of(rs, "https://a.example/a/yy", RULE_ANY), 18);
	rules_free(rs);
}
END_TEST

/* Path globs: '*' takes any run of bytes, '/' included; all else is literal. */
START_TEST(path_globs)
{
	static const char conf[] =
		"vendor V\n"
		"link * /g1/**\n"
		"link * /g2/*a*\n"
		"link * /g3/*a*b\n"
		"link * /g4\n";
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "g.conf", &errs);

	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(line_of(rs, "https://a.example/g1/", RULE_LINK), 2);
	ck_assert_int_eq(line_of(rs, "https://a.example/g1/x/y", RULE_LINK), 2);
	ck_assert_int_eq(line_of(rs, "https://a.example/g1", RULE_LINK), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/g2/a", RULE_LINK), 3);
	ck_assert_int_eq(line_of(rs, "https://a.example/g2/xxab/c", RULE_LINK), 3);
	ck_assert_int_eq(line_of(rs, "https://a.example/g2/xxb", RULE_LINK), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/g3/aab", RULE_LINK), 4);
	ck_assert_int_eq(line_of(rs, "https://a.example/g3/xa/ab", RULE_LINK), 4);
	ck_assert_int_eq(line_of(rs, "https://a.example/g3/ba", RULE_LINK), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/g3/abx", RULE_LINK), 0);
	ck_assert_int_eq(line_of(rs, "https://a.example/g4", RULE_LINK), 5);
	ck_assert_int_eq(line_of(rs, "https://a.example/g4/", RULE_LINK), 0);
	rules_free(rs);
}
END_TEST

/* Globs the literal prefix / suffix tests decide without glob_match(): one
 * run of '*' between a prefix and a suffix of at most 31 bytes, or no '*'.
 * Longer literals and two runs still go to glob_match(); the answers are the
 * glob's either way. */
START_TEST(path_globs_literal)
{
	static const char conf[] =
		"vendor V\n"
		"link * /ab*ba\n"					/* 2 */
		"link * /c**d\n"					/* 3: one run of two */
		"link * /e*f*g\n"					/* 4: two runs */
		"link * /0123456789012345678901234567890123456789*\n"	/* 5: long prefix */
		"link * /h*0123456789012345678901234567890123456789\n"	/* 6: long suffix */
		"link * /0123456789012345678901234567890123456789x\n"	/* 7: long, no '*' */
		"link * /lit\n"					/* 8 */
		"link * /*\n";						/* 9 */
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "gl.conf", &errs);

	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(line_of(rs, "https://a.example/abba", RULE_LINK), 2);
	ck_assert_int_eq(line_of(rs, "https://a.example/ab/x/ba", RULE_LINK), 2);
	ck_assert_int_eq(line_of(rs, "https://a.example/aba", RULE_LINK), 9);	/* overlap */
	ck_assert_int_eq(line_of(rs, "https://a.example/abb", RULE_LINK), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/cd", RULE_LINK), 3);
	ck_assert_int_eq(line_of(rs, "https://a.example/c**d", RULE_LINK), 3);
	ck_assert_int_eq(line_of(rs, "https://a.example/cdx", RULE_LINK), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/efg", RULE_LINK), 4);
	ck_assert_int_eq(line_of(rs, "https://a.example/exgfg", RULE_LINK), 4);
	ck_assert_int_eq(line_of(rs, "https://a.example/exxg", RULE_LINK), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/0123456789012345678901234567890123456789",
	    RULE_LINK), 5);
	ck_assert_int_eq(line_of(rs, "https://a.example/0123456789012345678901234567890123456780",
	    RULE_LINK), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/h0123456789012345678901234567890123456789",
	    RULE_LINK), 6);
	ck_assert_int_eq(line_of(rs, "https://a.example/h1123456789012345678901234567890123456789",
	    RULE_LINK), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/0123456789012345678901234567890123456789x",
	    RULE_LINK), 5);	/* 5 comes first */
	ck_assert_int_eq(line_of(rs, "https://a.example/lit", RULE_LINK), 8);
	ck_assert_int_eq(line_of(rs, "https://a.example/lit/", RULE_LINK), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/li", RULE_LINK), 9);
	ck_assert_int_eq(line_of(rs, "https://a.example/Lit", RULE_LINK), 9);
	rules_free(rs);
}
END_TEST

/* host rules of one vendor, tried in file order: a path that differs from
 * a literal only after its second byte is still told apart */
START_TEST(host_rule_literals)
{
	static const char conf[] =
		"vendor V\n"
		"functional h.example /wf/unsubscribe*\n"	/* 2 */
		"pixel h.example /wf/open*\n"			/* 3 */
		"link h.example /ls/click*\n"			/* 4 */
		"link h.example /lsx\n"			/* 5 */
		"link h.example\n";				/* 6 */
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "hl.conf", &errs);

	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/unsubscribe?x", RULE_ANY), 2);
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/open", RULE_ANY), 3);
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/opem", RULE_ANY), 6);
	ck_assert_int_eq(line_of(rs, "https://h.example/ls/click?upn=1", RULE_ANY), 4);
	ck_assert_int_eq(line_of(rs, "https://h.example/ls/clic", RULE_ANY), 6);
	ck_assert_int_eq(line_of(rs, "https://h.example/lsx", RULE_ANY), 5);
	ck_assert_int_eq(line_of(rs, "https://h.example/l", RULE_ANY), 6);
	ck_assert_int_eq(line_of(rs, "https://h.example", RULE_ANY), 6);
	/* rules of kinds not asked for are passed over */
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/open", RULE_PIXEL), 3);
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/open", RULE_LINK), 6);
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/open", RULE_FUNCTIONAL), 0);
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/unsubscribe", RULE_LINK | RULE_PIXEL), 6);
	ck_assert_int_eq(line_of(rs, "https://h.example/wf/unsubscribe", RULE_FUNCTIONAL), 2);
	rules_free(rs);
}
END_TEST

/* More "*" rules than one 64-bit word of the dispatch masks: the order
 * still follows the file across words. */
START_TEST(any_host_dispatch_many)
{
	struct buf conf = BUF_INIT;
	struct cfg_error *errs = NULL;
	struct rules *rs;
	char url[64];
	int i;

	ck_assert_int_eq(buf_puts(&conf, "vendor V\n"), 0);
	for (i = 0; i < 130; i++)	/* lines 2..131 */
		ck_assert_int_eq(buf_printf(&conf, i == 100 ? "link * /p*\n" : "link * /p%d\n", i), 0);
	rs = rules_load_string(conf.data, conf.len, "m.conf", &errs);
	ck_assert_ptr_nonnull(rs);
	for (i = 0; i < 130; i++) {
		snprintf(url, sizeof url, "https://a.example/p%d", i);
		ck_assert_int_eq(line_of(rs, url, RULE_LINK), i < 100 || i == 100 ? i + 2 : 102);
	}
	ck_assert_int_eq(line_of(rs, "https://a.example/px", RULE_LINK), 102);
	ck_assert_int_eq(line_of(rs, "https://a.example/q1", RULE_LINK), 0);
	rules_free(rs);

	/* a rule longer than the last length row still matches long paths */
	buf_reset(&conf);
	ck_assert_int_eq(buf_printf(&conf, "vendor V\nlink * /%0300d*\n", 0), 0);
	rs = rules_load_string(conf.data, conf.len, "l.conf", &errs);
	ck_assert_ptr_nonnull(rs);
	buf_reset(&conf);
	ck_assert_int_eq(buf_printf(&conf, "https://a.example/%0300d", 0), 0);
	ck_assert_int_eq(line_of(rs, conf.data, RULE_LINK), 2);
	conf.data[conf.len - 1] = '1';
	ck_assert_int_eq(line_of(rs, conf.data, RULE_LINK), 0);
	conf.data[--conf.len] = '\0';	/* one byte too short */
	ck_assert_int_eq(line_of(rs, conf.data, RULE_LINK), 0);
	rules_free(rs);
	buf_free(&conf);
}
END_TEST

/* Host names are case-insensitive in the file as in URLs. */
START_TEST(host_case)
{
	static const char conf[] =
		"vendor V\n"
		"link Upper.Example /a\n"
		"link *.SUB.example /b\n"
		"link sub.EXAMPLE /c\n";
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "c.conf", &errs);

	ck_assert_ptr_nonnull(rs);
	ck_assert_int_eq(line_of(rs, "https://upper.example/a", RULE_LINK), 2);
	ck_assert_int_eq(line_of(rs, "https://UPPER.EXAMPLE./a", RULE_LINK), 2);
	ck_assert_int_eq(line_of(rs, "https://a.sub.example/b", RULE_LINK), 3);
	ck_assert_int_eq(line_of(rs, "https://A.Sub.Example/b", RULE_LINK), 3);
	ck_assert_int_eq(line_of(rs, "https://sub.example/c", RULE_LINK), 4);
	ck_assert_int_eq(line_of(rs, "https://sub.example/b", RULE_LINK), 0);
	rules_free(rs);
}
END_TEST

START_TEST(config_defaults)
{
	struct cm_config *cfg = cfg_defaults();
	const char *suffix = "/consent-milter/trackers.conf";

	ck_assert_ptr_nonnull(cfg);
	ck_assert_ptr_nonnull(cfg->tracker_rules);
	ck_assert(cfg->tracker_rules[0] == '/');
	ck_assert(strlen(cfg->tracker_rules) > strlen(suffix));
	ck_assert_str_eq(cfg->tracker_rules + strlen(cfg->tracker_rules) - strlen(suffix), suffix);
	ck_assert_int_eq(cfg->strip_campaign_params, 0);
	ck_assert_int_eq(cfg->pixel_action, 0);
	ck_assert_uint_eq(cfg_list_len(cfg->own_tracking_domains), 0);
	cfg_free(cfg);
}
END_TEST

START_TEST(man_page_examples_load)
{
	/* The EXAMPLES section of man/trackers.conf.5, one rule per line. */
	static const char conf[] =
		"vendor Amazon SES\n"
		"link  *.awstrack.me  /L0/*   unwrap=segment:2 decode=percent\n"
		"pixel *.awstrack.me  /I0/*\n"
		"vendor Mandrill\n"
		"link mandrillapp.com /track/click/* unwrap=param:p decode=base64url|json:p|json:url\n"
		"vendor Substack\n"
		"link substack.com /redirect/2/* unwrap=segment:3 decode=jwt:e\n"
		"vendor listmonk\n"
		"link * re:^/link/[0-9a-f-]{36}/[0-9a-f-]{36}/([0-9a-f-]{36})$ anonymize=capture:1\n"
		"vendor Mailchimp\n"
		"functional *.list-manage.com /unsubscribe*\n"
		"link       *.list-manage.com /track/click*\n"
		"pixel      *.list-manage.com /track/open.php*\n"
		"vendor Our own newsletter tool\n"
		"param news.example.org /* strip=sid,sub_*\n"
		"vendor Microsoft Defender Safe Links\n"
		"exempt *.safelinks.protection.outlook.com\n"
		"personal mc_eid _hsenc _hsmi mkt_tok sfmc_* elq*\n"
		"campaign utm_*\n";
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "man", &errs);
	const struct rule *r;
	const char *u = "https://news.example.org/a?sid=1&sub_x=2&keep=3";

	ck_assert_msg(rs != NULL, "%s", errs ? errs->text : "");
	r = rules_match_str(rs, u, strlen(u), RULE_PARAM);
	ck_assert_ptr_nonnull(r);
	ck_assert(rules_rule_strips_param(r, "sid", 3));
	ck_assert(rules_rule_strips_param(r, "sub_x", 5));
	ck_assert(!rules_rule_strips_param(r, "keep", 4));
	rules_free(rs);
}
END_TEST

/* Concurrent readers: every thread classifies the whole vendor table many
 * times (regex rules included, each thread with its own PCRE2 match data)
 * and must get the answers a single thread gets. */
struct thread_arg {
	const struct rule *want[sizeof vcases / sizeof vcases[0]];
	int bad;
};

static void *
reader(void *p)
{
	struct thread_arg *a = p;
	struct buf out = BUF_INIT;
	size_t i;
	int round;

	for (round = 0; round < 200; round++)
		for (i = 0; i < sizeof vcases / sizeof vcases[0]; i++) {
			const struct rule *r = rules_match_str(R, vcases[i].url, strlen(vcases[i].url),
							      vcases[i].mask);

			if (r != a->want[i])
				a->bad++;
			if (r != NULL && rules_has_anonymize(r))
				(void)rules_anonymize(r, vcases[i].url, strlen(vcases[i].url), &out);
		}
	buf_free(&out);
	return NULL;
}

/* rules_match_memo() always answers what rules_match() answers: hosts
 * with and without host rules, in any case, with a trailing dot, longer
 * than the memo keeps, more hosts than it holds, hosts of the same length
 * one byte apart, in random order. */
START_TEST(match_memo_same_answers)
{
	static const char *const hosts[] = {
		"cdn.example-shop.com", "www.example-shop.com", "a1b2c3.r.us-east-1.awstrack.me",
		"example-shop.us14.list-manage.com", "u1234567.ct.sendgrid.net", "click.pstmrk.it",
		"pstmrk.it", "PSTMRK.IT", "pstmrk.it.", "t.hubspotemail.net", "nam12.safelinks.protection.outlook.com",
		"mailtrack.io", "x.mailtrack.io", "images.example.org", "example.org", ".", "a..b",
		"very-long-host-name-that-is-longer-than-the-memo-keeps-for-sure.example.com",
		"very-long-host-name-that-is-longer-than-the-memo-keeps-for-sure.awstrack.me",
		"127.0.0.1", "[::1]", "xn--bcher-kva.example", "list-manage.com", "sendgrid.net",
		/* the same length as a host with rules, one byte different: first,
		 * last, below eight bytes */
		"pstmrk.iu", "qstmrk.it", "mailtrack.iq", "sendgrid.nex", "spgo.io", "spgo.iq"
	};
	static const char *const paths[] = {
		"/", "/I0/0100018c/Zm9v=", "/L0/https:%2F%2Fwww.example.com%2Fx/1/abc", "/track/open.php?u=1&id=2",
		"/track/click?u=1&id=2&e=3", "/wf/open?upn=abc", "/ls/click?upn=u001.abc", "/e2t/to/VWx8N",
		"/open?em=abc", "/img/product-12.jpg", "/products/item-1?color=blue&size=m", "/px.png",
		"/campaign/1/2/px.png", "/email/123.gif", "/r/abc?ct=1", "/lt.php?tid=1", "/ut.php?u=1"
	};
	static const unsigned masks[] = {
		RULE_PIXEL | RULE_EXEMPT, RULE_LINK | RULE_PARAM | RULE_FUNCTIONAL | RULE_EXEMPT,
		RULE_LINK | RULE_FUNCTIONAL | RULE_EXEMPT
	};
	struct rules_memo memo;
	unsigned seed = 12345;
	int i;

	ck_assert_ptr_nonnull(R);
	memset(&memo, 0, sizeof memo);
	for (i = 0; i < 20000; i++) {
		char url[512];
		struct url u;
		size_t h, p, m;

		seed = seed * 1103515245u + 12345u;
		h = (seed >> 8) % (sizeof hosts / sizeof hosts[0]);
		seed = seed * 1103515245u + 12345u;
		p = (seed >> 8) % (sizeof paths / sizeof paths[0]);
		m = (seed >> 20) % (sizeof masks / sizeof masks[0]);
		/* ftp: a remembered host must not skip the scheme check */
		snprintf(url, sizeof url, "%s://%s%s", (seed >> 28) % 3 == 0 ? "https" :
		    (seed >> 28) % 3 == 1 ? "http" : "ftp", hosts[h], paths[p]);
		if (url_parse(url, strlen(url), &u) != 0)
			continue;
		ck_assert_msg(rules_match_memo(R, &u, masks[m], &memo) == rules_match(R, &u, masks[m]),
		    "%s mask %u", url, masks[m]);
	}
	/* another rule set with the same memo: it starts over */
	{
		static const char conf[] = "vendor Other\npixel cdn.example-shop.com\n";
		struct cfg_error *errs = NULL;
		struct rules *rs = rules_load_string(conf, sizeof conf - 1, "o.conf", &errs);
		struct url u;
		const char *url = "https://cdn.example-shop.com/img/product-12.jpg";

		ck_assert_ptr_nonnull(rs);
		ck_assert_int_eq(url_parse(url, strlen(url), &u), 0);
		ck_assert_ptr_null(rules_match_memo(R, &u, RULE_PIXEL, &memo));
		ck_assert_ptr_nonnull(rules_match_memo(rs, &u, RULE_PIXEL, &memo));
		ck_assert_ptr_eq(rules_match_memo(rs, &u, RULE_PIXEL, &memo), rules_match(rs, &u, RULE_PIXEL));
		rules_free(rs);
		cfg_errors_free(errs);
	}
}
END_TEST

/* The memo remembers a host's entries (up to RULES_MEMO_ENTRIES) and
 * looks up again a host with more: answers stay rules_match()'s for hosts
 * with one to six suffix entries, exact and "*." ones, in any case, for
 * paths some rules want and others do not, more hosts than the memo holds. */
START_TEST(match_memo_many_entries)
{
	static const char conf[] =
	    "vendor Deep\n"
	    "pixel f.e.d.c.b.example /p/*\n"
	    "link *.e.d.c.b.example /l/*\n"
	    "pixel *.d.c.b.example /q/*\n"
	    "link d.c.b.example /m/*\n"
	    "param *.c.b.example /s/* strip=x\n"
	    "pixel *.b.example /r/*\n"
	    "exempt *.example /safe/*\n"
	    "functional * /unsubscribe\n";
	static const char *const hosts[] = {
		"f.e.d.c.b.example", "F.E.D.C.B.EXAMPLE", "g.f.e.d.c.b.example", "e.d.c.b.example",
		"x.e.d.c.b.example", "d.c.b.example", "d.c.b.example.", "c.b.example", "b.example",
		"z.b.example", "example", "other.example", "h1.example", "h2.example", "h3.example",
		"h4.example", "h5.example", "h6.example", "h7.example", "h8.example"
	};
	static const char *const paths[] = {
		"/", "/p/1", "/l/2", "/q/3", "/m/4", "/s/5?x=1", "/r/6", "/safe/7", "/unsubscribe"
	};
	struct cfg_error *errs = NULL;
	struct rules *rs = rules_load_string(conf, sizeof conf - 1, "deep.conf", &errs);
	struct rules_memo memo;
	unsigned seed = 777;
	int i, hits = 0;

	ck_assert_msg(rs != NULL, "%s", errs ? errs->text : "");
	memset(&memo, 0, sizeof memo);
	for (i = 0; i < 20000; i++) {
		char url[256];
		struct url u;
		size_t h, p;
		unsigned mask;

		seed = seed * 1103515245u + 12345u;
		h = (seed >> 8) % (sizeof hosts / sizeof hosts[0]);
		p = (seed >> 16) % (sizeof paths / sizeof paths[0]);
		mask = 1 + (seed >> 24) % RULE_ANY;
		snprintf(url, sizeof url, "https://%s%s", hosts[h], paths[p]);
		ck_assert_int_eq(url_parse(url, strlen(url), &u), 0);
		ck_assert_msg(rules_match_memo(rs, &u, mask, &memo) == rules_match(rs, &u, mask),
		    "%s mask %u", url, mask);
		hits += rules_match(rs, &u, mask) != NULL;
	}
	ck_assert_int_gt(hits, 2000);	/* the rules do apply */
	rules_free(rs);
	cfg_errors_free(errs);
}
END_TEST

START_TEST(concurrent_readers)
{
	static struct thread_arg args[4];
	pthread_t th[4];
	size_t i;
	int t;

	for (t = 0; t < 4; t++) {
		for (i = 0; i < sizeof vcases / sizeof vcases[0]; i++)
			args[t].want[i] = rules_match_str(R, vcases[i].url, strlen(vcases[i].url),
							  vcases[i].mask);
		args[t].bad = 0;
		ck_assert_int_eq(pthread_create(&th[t], NULL, reader, &args[t]), 0);
	}
	for (t = 0; t < 4; t++) {
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
		ck_assert_int_eq(args[t].bad, 0);
	}
}
END_TEST

START_TEST(from_config)
{
	struct cm_config *cfg = cfg_defaults();
	struct cfg_error *errs = NULL;
	struct rules *rs;
	const char *top = getenv("top_srcdir");
	char path[4096];

	snprintf(path, sizeof path, "%s/etc/trackers.conf", top ? top : "..");
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(cfg_set(cfg, "TrackerRules", path, "t.conf", 1, &errs), 0);
	ck_assert_int_eq(cfg_set(cfg, "OwnTrackingDomains", "trk.our.example, clicks.our.example", "t.conf", 2, &errs), 0);
	rs = rules_from_config(cfg, &errs);
	ck_assert_msg(rs != NULL, "%s", errs ? errs->text : "");
	ck_assert_str_eq(rules_vendor(rules_match_str(rs, "https://x.clicks.our.example/a", 30, RULE_LINK)), "own");
	ck_assert_ptr_nonnull(rules_match_str(rs, "https://pointer.us9.list-manage.com/track/click?u=1", 51, RULE_LINK));
	rules_free(rs);

	ck_assert_int_eq(cfg_set(cfg, "OwnTrackingDomains", "ok.example bad_dom@in", "t.conf", 3, &errs), 0);
	rs = rules_from_config(cfg, &errs);
	ck_assert_ptr_null(rs);
	ck_assert_ptr_nonnull(errs);
	ck_assert_msg(strstr(errs->text, "OwnTrackingDomains") != NULL, "%s", errs->text);
	cfg_errors_free(errs);
	errs = NULL;

	ck_assert_int_eq(cfg_set(cfg, "TrackerRules", "/nonexistent/t.conf", "t.conf", 4, &errs), 0);
	ck_assert_ptr_null(rules_from_config(cfg, &errs));
	ck_assert_ptr_nonnull(errs);
	cfg_errors_free(errs);
	cfg_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_add_unchecked_fixture(tc, load_shipped, free_shipped);
	tcase_add_test(tc, shipped_file_loads);
	tcase_add_loop_test(tc, vendor_table, 0, (int)(sizeof vcases / sizeof vcases[0]));
	tcase_add_test(tc, unwrap_failures);
	tcase_add_test(tc, ses_segment_not_greedy);
	tcase_add_test(tc, unwrap_browser_encoding);
	tcase_add_test(tc, unwrap_with_scratch);
	tcase_add_test(tc, unwrap_url_same_answers);
	tcase_add_test(tc, segment_targets);
	tcase_add_test(tc, nested_wrappers);
	tcase_add_test(tc, listmonk_anonymize);
	tcase_add_test(tc, anonymize_recipes);
	tcase_add_test(tc, personal_params);
	tcase_add_test(tc, name_lists);
	tcase_add_test(tc, bad_file_reports_every_error);
	tcase_add_test(tc, pathological_regex_rejected);
	tcase_add_test(tc, host_matching_and_own_domains);
	tcase_add_test(tc, any_host_dispatch);
	tcase_add_test(tc, any_host_dispatch_many);
	tcase_add_test(tc, path_globs);
	tcase_add_test(tc, path_globs_literal);
	tcase_add_test(tc, host_rule_literals);
	tcase_add_test(tc, host_case);
	tcase_add_test(tc, config_defaults);
	tcase_add_test(tc, man_page_examples_load);
	tcase_add_test(tc, concurrent_readers);
	tcase_add_test(tc, match_memo_same_answers);
	tcase_add_test(tc, match_memo_many_entries);
	tcase_add_test(tc, from_config);
	suite_add_tcase(s, tc);
	return cm_run_suite(s);
}
