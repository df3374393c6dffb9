/* SQLSTATE classification: retry, data error or fatal, by code alone. */
#include "fwtest.h"
#include "pgutil.h"

int main(void)
{
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("00000"), FW_PG_OK);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate(NULL), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate(""), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("08006"), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("08001"), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("40001"), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("40P01"), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("53300"), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("57P01"), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("55P03"), FW_PG_RETRY);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("22021"), FW_PG_DATA); /* bad UTF-8 */
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("22P05"), FW_PG_DATA); /* NUL in text */
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("23505"), FW_PG_DATA);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("42P01"), FW_PG_FATAL);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("42501"), FW_PG_FATAL);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("40002"), FW_PG_FATAL);
    FWT_CHECK_EQ_INT(fw_pg_classify_sqlstate("XX000"), FW_PG_FATAL);
    return 0;
}
