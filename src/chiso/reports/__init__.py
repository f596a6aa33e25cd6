"""Official documents (văn bản, báo cáo, phụ lục): monthly letters, unit letters, the quarterly one-stop report
and the administrative-reform statistics forms, rendered from templates the province office owns."""
